"""Challenge screens: be the scheduler to reach a goal, and walk through a checker's counterexample.

    ChallengeMenu       the challenges with their limits and best scores; Enter opens one
    ChallengeScreen     one Attempt (teach_sgd.sim.challenges.play): 1–9 step a thread, u undo, i hint,
                        r start again; the verdict replays the schedule that won
    TraceScreen         a counterexample from `teach-sgd check`, one step per n (b goes back), each step with
                        its sentence and the engine function that performs it

All three only draw: the logic lives in the Attempt and in the protocol models.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from teach_sgd.sim.challenges import BY_ID, CHALLENGES, Attempt, AttemptOver, Scores
from teach_sgd.sim.challenges.game import ProtocolGame
from teach_sgd.tui.screens.base import QUIT_HELP
from teach_sgd.tui.widgets.menus import reload_options

CSS = """
.board-head { height: auto; padding: 0 1; background: $boost; }
.board-status { height: 1; padding: 0 1; }
.board-main { height: 1fr; }
.board-threads { width: 1fr; border: round $primary 50%; padding: 0 1; }
.board-state { width: 1fr; border: round $primary 50%; padding: 0 1; }
.board-log { height: 1fr; border: round $primary 50%; padding: 0 1; }
"""


class ChallengeMenu(Screen):
    DEFAULT_CSS = CSS
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("[b]Challenges[/b] — you are the scheduler: reach the goal in as few steps as you can.",
                     classes="board-head")
        yield OptionList(*self._options(), id="ch-menu")
        yield Footer()

    def _options(self):
        scores = Scores.load()
        if scores.warning:  # a damaged scores file was set aside (userdata.load_table)
            self.app.notify(scores.warning, severity="warning", timeout=15)
        for c in CHALLENGES:
            best = scores.best(c.id)
            mark = f"  ✓ best {best}" if best is not None else ""
            yield Option(f"{c.title}  (≤ {c.limit} steps){mark}", id=c.id)

    def on_screen_resume(self) -> None:
        reload_options(self.query_one("#ch-menu", OptionList), self._options())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.app.push_screen(ChallengeScreen(BY_ID[event.option.id]))


class _Board(Screen):
    """The layout both boards share: a head, a status line, threads beside the shared state, an event log."""

    DEFAULT_CSS = CSS

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="board-head", classes="board-head")
        yield Static("", id="board-status", classes="board-status")
        with Horizontal(classes="board-main"):
            yield Static("", id="board-threads", classes="board-threads")
            yield Static("", id="board-state", classes="board-state")
        with VerticalScroll(classes="board-log"):
            yield Static("", id="board-log")
        yield Footer()

    def show(self, game, head: str, status: str, log: list[str]) -> None:
        enabled = set(game.enabled())
        rows = [(f"[b]{t + 1}[/b] thread {t}: " if t in enabled else f"[dim]  thread {t}: ")
                + escape(game.next_text(t)) + ("" if t in enabled else "[/dim]") for t in range(game.threads)]
        self.query_one("#board-threads", Static).update("\n".join(rows))
        self.query_one("#board-state", Static).update(escape(game.state_text()))
        self.query_one("#board-head", Static).update(head)
        self.query_one("#board-status", Static).update(status)
        self.query_one("#board-log", Static).update("\n".join(escape(line) for line in log[-200:]))

    @property
    def text(self) -> str:
        """Everything the board shows, as plain text (for tests)."""
        parts = [str(self.query_one(f"#board-{w}", Static).content) for w in ("head", "status", "state", "log")]
        return "\n".join(parts)


class ChallengeScreen(_Board):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        *QUIT_HELP,
        Binding("1", "thread(0)", "Step thread", key_display="1-9"),
        *[Binding(str(k), f"thread({k - 1})", show=False) for k in range(2, 10)],
        Binding("u", "undo", "Undo"),
        Binding("i", "hint", "Hint"),
        Binding("r", "restart", "Start again"),
    ]

    def __init__(self, challenge, **kwargs) -> None:
        super().__init__(**kwargs)
        self.challenge = challenge
        self.attempt = Attempt(challenge, Scores.load())
        self.lines: list[str] = []
        self.message = "press 1–9 to step a thread · u undo · i hint"

    def on_mount(self) -> None:
        self.draw()

    def draw(self) -> None:
        c, a = self.challenge, self.attempt
        best = a.scores.best(c.id)
        head = (f"[b]{escape(c.title)}[/b] — {escape(c.task)}\ngoal: [b]{escape(c.goal)}[/b] within {c.limit} steps"
                f" · best {'—' if best is None else best}")
        status = f"step {a.steps}/{c.limit} · {escape(self.message)}"
        log = list(self.lines)
        v = a.verdict
        if v is not None:
            best = " — new best!" if v.new_best else ""
            verdict = f"★ WON in {v.steps} steps{best}" if v.won else "✗ out of steps"
            log += ["", verdict, v.message, "", "the schedule, replayed:", *v.replay]
        self.show(a.game, head, status, log)

    def action_thread(self, tid: int) -> None:
        try:
            events = self.attempt.step(tid)
        except (AttemptOver, ValueError) as e:
            self.message = f"✗ {e}"
        else:
            self.lines.append(f"{self.attempt.steps:>3}. thread {tid}: "
                            + self.attempt.game.last_text + (f"  → {'; '.join(events)}" if events else ""))
            self.message = "; ".join(events) or f"thread {tid} stepped"
        self.draw()

    def action_undo(self) -> None:
        if self.attempt.undo():
            self.lines = self.lines[:self.attempt.steps]
            self.message = f"undone: back to step {self.attempt.steps}"
        else:
            self.message = "nothing to undo: this is step 0"
        self.draw()

    def action_hint(self) -> None:
        self.message = "hint: " + self.attempt.hint()
        self.draw()

    def action_restart(self) -> None:
        self.attempt = Attempt(self.challenge, Scores.load())
        self.lines = []
        self.message = "started again at step 0"
        self.draw()


class TraceScreen(_Board):
    """A counterexample (a schedule on a protocol model), one step at a time, with its explanation."""

    BINDINGS = [
        Binding("n,space", "next", "Next step"),
        Binding("b", "back", "Back a step"),
        Binding("escape", "app.pop_screen", "Close"),
    ]

    def __init__(self, model, schedule, broken, **kwargs) -> None:
        super().__init__(**kwargs)
        self.game = ProtocolGame(model)
        self.schedule, self.broken = list(schedule), broken
        self.lines: list[str] = []

    def on_mount(self) -> None:
        self.draw()

    def draw(self) -> None:
        g = self.game
        prop, why = self.broken
        head = (f"[b]counterexample[/b]: {escape(g.model.name)}, {g.threads} threads — {len(self.schedule)} steps "
                f"to break [b]{prop}[/b]")
        status = f"step {len(g.schedule)}/{len(self.schedule)} · n next, b back"
        log = list(self.lines)
        if len(g.schedule) == len(self.schedule):
            log += ["", f"✗ {prop}: {why}"]
        self.show(g, head, status, log)

    def action_next(self) -> None:
        g = self.game
        if len(g.schedule) < len(self.schedule):
            events = g.step(self.schedule[len(g.schedule)])
            step = g.last.step
            self.lines.append(f"{len(g.schedule):>3}. {g.last}   [{step.source}]"
                            + (f"  → {'; '.join(events)}" if events else ""))
        self.draw()

    def action_back(self) -> None:
        if self.game.schedule:
            self.game.undo()
            self.lines.pop()
        self.draw()
