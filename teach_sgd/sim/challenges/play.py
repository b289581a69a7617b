"""One attempt at a challenge, with no terminal in sight: the TUI, the CLI and the tests all drive this.

    attempt = Attempt(BY_ID["lose-update"], scores)
    attempt.step(0) … attempt.undo() … attempt.hint()
    attempt.verdict            None while playing; a Verdict once the goal is reached or the steps run out

The goal is judged after every step. A win is recorded in `scores` (best = fewest steps) and its verdict
replays the winning schedule step by step. Running out of steps on an impossible challenge is its verdict:
the proof of why no schedule wins.
"""
from __future__ import annotations

from dataclasses import dataclass

from teach_sgd.lessons import rules

from .catalog import Challenge
from .progress import Scores
from .solve import reached, shortest_win


class AttemptOver(Exception):
    """A step after the verdict: undo a step, or start again."""


@dataclass(frozen=True)
class Verdict:
    won: bool
    steps: int
    schedule: tuple
    best: int | None          # the best score after this attempt
    new_best: bool
    replay: tuple             # the schedule step by step, in words
    message: str              # what the win shows, or why the challenge cannot be won


class Attempt:
    def __init__(self, challenge: Challenge, scores: Scores | None = None):
        self.challenge = challenge
        self.scores = scores
        self.game = challenge.new_game()
        self._goal = rules.parse(challenge.goal)
        self.hints_used = 0
        self.verdict: Verdict | None = None

    @property
    def steps(self) -> int:
        return len(self.game.schedule)

    @property
    def left(self) -> int:
        return self.challenge.limit - self.steps

    def step(self, tid: int) -> list[str]:
        """Step thread tid; returns the sentences for what it caused. Raises AttemptOver after the verdict and
        ValueError (with the reason) for a thread that may not step."""
        if self.verdict is not None:
            raise AttemptOver("this attempt is over: undo a step (u) or start again (r)")
        if not 0 <= tid < self.game.threads:
            raise ValueError(f"there are only {self.game.threads} threads: keys 1–{self.game.threads}")
        if tid not in self.game.enabled():
            raise ValueError(f"thread {tid} cannot step now")
        events = self.game.step(tid)
        if reached(self.game, self._goal):
            self.verdict = self._judge(won=True)
        elif self.left == 0:
            self.verdict = self._judge(won=False)
        return events

    def undo(self) -> bool:
        """Take back one step (and a verdict that came with it); False at step 0."""
        if not self.steps:
            return False
        self.game.undo()
        self.verdict = None
        return True

    def hint(self) -> str:
        """The challenge's hints in turn; after them, a next step that still wins within the limit, if any."""
        c = self.challenge
        self.hints_used += 1
        if self.hints_used <= len(c.hints):
            return c.hints[self.hints_used - 1]
        if c.impossible:
            return "no step wins this one — try, and see why when the steps run out"
        path = shortest_win(self.game, c.goal, c.limit)
        if path is None:
            return "no schedule wins from here within the limit: undo some steps"
        return f"step thread {path[0]} next: {len(path)} step(s) from here can still win"

    def _judge(self, won: bool) -> Verdict:
        c = self.challenge
        schedule = tuple(self.game.schedule)
        new_best = False
        if won and self.scores is not None:
            new_best = self.scores.record(c.id, list(schedule))
            self.scores.save()
        best = self.scores.best(c.id) if self.scores is not None else (len(schedule) if won else None)
        if won:
            message = c.why
        elif c.impossible:
            message = c.proof
        else:
            message = f"{c.limit} steps are used up without reaching the goal: undo, or ask for a hint (i)"
        return Verdict(won, len(schedule), schedule, best, new_best, tuple(replay_text(c, schedule)), message)


def replay_text(challenge: Challenge, schedule) -> list[str]:
    """A schedule played again on a fresh board: one line a step, with what it caused."""
    game = challenge.new_game()
    lines = []
    for i, tid in enumerate(schedule, 1):
        events = game.step(tid)
        caused = f"  → {'; '.join(events)}" if events else ""
        lines.append(f"{i:>3}. thread {tid}: {game.last_text}{caused}")
    return lines
