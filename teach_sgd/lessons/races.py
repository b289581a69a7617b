"""Guided races: the learner makes each race on real threads, one stage at a time (a lesson's race step).

    race = GuidedRace(RACES["failed-cas"], runner)   # runner: an engine Runner of race.spec.config(), not started
    race.setup()                   # the holds the race starts from (thread 0 held before its CAS, …)
    runner.start()
    race.poll()                    # every ~0.1 s: moves on when the engine's counters say the stage happened
    reply = race.act(Action("thaw", 1))   # the learner's key: done if it is the stage's move, else explained
    race.lines(keys) · race.done · race.outcome

A race is a script of stages. Each stage says what to do (naming the key), waits for that action, performs it
on the real threads (runner.holds: engine/holds.py), and then waits until the engine's own counters and
events say what happened (thread 1 published; thread 0 is held at its next point), and reads the numbers:
"thread 0's CAS failed because thread 1 published version 7 while it was held". A stage with no action waits
for the engine alone (watching a frozen lock holder for a second). Any other action is not performed: the
learner is told why it would spoil the race and what the stage wants instead — a wrong key never silently
breaks the setup.

The outcome is checked, not assumed: a stage's `check` reads the counters after it and says what happened
when they disagree with the script (a busy machine cannot break a held thread's race, but the text must be
true whatever the engine did). The recipes are those of tests/test_breakpoints.py, where each race is made
deterministically on real threads.

Lessons place a race with a line `<!-- race: NAME -->` (lessons/README.md, "Races the learner makes").
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from teach_sgd.engine import layout as L
from teach_sgd.engine.config import RunConfig

RACE_SECONDS = 600.0  # a race's run ends on its own after this long: nobody needs longer to press four keys
WATCH_S = 1.0         # how long a "watch the others" stage watches a frozen thread

ACTIONS = ("hold", "unhold", "freeze", "thaw", "step", "continue", "clear")
NO_KEYS = {k: "" for k in ("select", *ACTIONS)}  # stage texts without key names (plain-text walks, tests)


def key_names(select: tuple[str, str], breakpoint: str, freeze: str, step: str, go_on: str, clear: str) -> dict:
    """What a stage text says after each move, from the screen's own bindings: {"step": " (**o**)", …}."""
    bold = {"select": f"{select[0]}** or **{select[1]}", "hold": breakpoint, "unhold": breakpoint,
            "freeze": freeze, "thaw": freeze, "step": step, "continue": go_on, "clear": clear}
    return {k: f" (**{v}**)" for k, v in bold.items()}


@dataclass(frozen=True)
class Action:
    """One thread control: `kind` (ACTIONS) on thread `thread` (None: every thread), at `point` (hold, unhold)."""

    kind: str
    thread: int | None = None
    point: str | None = None

    def text(self) -> str:
        who = "every thread" if self.thread is None else f"thread {self.thread}"
        if self.kind == "continue":
            return "continue every held thread"
        if self.kind == "clear":
            return "clear every breakpoint and freeze"
        at = f" at {self.point}" if self.point else ""
        return f"{self.kind} {who}{at}"

    def matches(self, other: "Action") -> bool:
        return (self.kind, self.thread) == (other.kind, other.thread) and (self.point is None
                                                                           or self.point == other.point)


@dataclass(frozen=True)
class Stage:
    """`do`: what the learner reads, with `{thaw}`-style placeholders for the keys, glued to the word before:
    format(**keys) with keys like {"thaw": " (t)"}, or NO_KEYS.
    `expect`: the actions that are this stage's move (empty: the engine alone ends the stage).
    `until(probe)`: the engine state that ends the stage once its action is done.
    `note(probe, numbers)`: what happened, quoting the numbers it reads (and may add to `numbers`).
    `why_not`: for an action the learner may be tempted by, (kind, thread) → why not now.
    `passes`: actions that do no harm here and are let through without ending the stage (moving a
    breakpoint point by point on its way to the one the stage wants)."""

    do: str
    expect: tuple[Action, ...]
    until: Callable
    note: Callable
    why_not: dict = field(default_factory=dict)
    passes: tuple[Action, ...] = ()


@dataclass(frozen=True)
class RaceSpec:
    name: str
    title: str
    settings: dict                # RunConfig settings of the race's run
    setup: tuple[Action, ...]     # holds set before the run starts
    ready: Callable               # probe → the setup holds have caught their threads
    intro: str                    # where the threads are once ready
    stages: tuple[Stage, ...]
    outcome: Callable             # numbers → the closing sentence, with the real numbers

    def config(self) -> RunConfig:
        base = dict(dataset="mnist", model="mlp", lr=0.05, batch=16, seed=0, seconds=RACE_SECONDS)
        return RunConfig.from_mapping({**base, **self.settings}, source="lesson")


class Probe:
    """What a race reads from a running Runner: its own counters and event stream, nothing else."""

    def __init__(self, runner):
        self.runner = runner

    def stats(self, tid: int):
        return self.runner.state.thread_stats()[tid]

    def held_at(self, tid: int) -> str | None:
        return self.runner.holds.held_at(tid)

    def published(self) -> int:
        return self.runner.state.published()

    def others_updates(self, tid: int) -> int:
        return sum(t.updates for t in self.runner.state.thread_stats() if t.thread != tid)

    def events(self, tid: int, outcome: int):
        e = self.runner.events.events()
        return e[(e["thread"] == tid) & (e["outcome"] == outcome)]

    def sample_stride(self) -> int:
        return int(self.runner.state.ip[L.P_SAMPLE_STRIDE])


class Failed(str):
    """A stage's note when the engine's counters disagree with the script: the race stops there, saying so."""


@dataclass(frozen=True)
class Reply:
    done: bool   # the action was the stage's move and was performed on the threads
    text: str    # what the learner is told (empty when done)


class GuidedRace:
    """One pass of a race on one Runner. `perform(action)` acts on the threads; by default the runner's holds."""

    def __init__(self, spec: RaceSpec, runner, perform: Callable[[Action], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.spec, self.runner, self.probe, self.clock = spec, runner, Probe(runner), clock
        self.perform = perform if perform is not None else self._perform
        self.index = -1           # -1: waiting for the setup holds to catch their threads
        self.acted = False        # the current stage's action has been performed
        self.numbers: dict = {}
        self.notes: list[str] = []
        self.wrong = ""           # why the last action was not performed
        self.revision = 0         # bumped whenever what lines() says changes (a screen redraws on it)
        self.failed = ""          # the run ended before the race was made, or the engine did otherwise

    def _perform(self, a: Action) -> None:
        holds = self.runner.holds
        if a.kind == "continue":
            holds.continue_all()
        elif a.kind == "clear":
            holds.clear()
        elif a.kind in ("hold", "unhold"):
            getattr(holds, a.kind)(a.thread, a.point)
        else:
            getattr(holds, a.kind)(a.thread)

    def setup(self) -> None:
        for a in self.spec.setup:
            self._perform(a)

    @property
    def stage(self) -> Stage | None:
        return self.spec.stages[self.index] if 0 <= self.index < len(self.spec.stages) else None

    @property
    def done(self) -> bool:
        return self.index >= len(self.spec.stages)

    @property
    def waiting_for_action(self) -> bool:
        s = self.stage
        return s is not None and bool(s.expect) and not self.acted and not self.failed

    @property
    def outcome(self) -> str:
        return self.spec.outcome(self.numbers) if self.done and not self.failed else ""

    def refusal(self, action: Action) -> str:
        """'' if `action` may be performed now — the stage's move, or one it lets pass — else why not (kept in
        `wrong` for the text). Once the race is over, the keys are the learner's again."""
        s = self.stage
        if self.done or self.failed:
            why = ""
        elif s is None or not self.waiting_for_action:
            why = "Wait a moment: the threads are still getting to where this stage needs them."
        elif any(e.matches(action) for e in s.expect + s.passes):
            why = ""
        else:
            extra = s.why_not.get((action.kind, action.thread), "")
            why = (f"Not now: {action.text()}. " + (extra + " " if extra else "")
                   + f"This stage wants: {' or '.join(e.text() for e in s.expect)}.")
        self.wrong, self.revision = why, self.revision + 1
        return why

    def observe(self, action: Action) -> None:
        """`action` was performed on the threads: if it is the stage's move, the stage now waits for the engine."""
        s = self.stage
        if s is not None and self.waiting_for_action and any(e.matches(action) for e in s.expect):
            self.acted, self.revision = True, self.revision + 1

    def act(self, action: Action) -> Reply:
        """The learner's key, performed through `perform` only if refusal() lets it."""
        if self.done or self.failed:
            return Reply(False, "the race is over: r makes it again")
        why = self.refusal(action)
        if why:
            return Reply(False, why)
        self.perform(action)
        self.observe(action)
        return Reply(True, "")

    # ThreadControls' hooks (teach_sgd/runs/controls.py: guards and observers), for the lesson screen's keys
    def guard(self, what: str, run, tid: int | None, point: str | None) -> str | None:
        return self.refusal(Action(what, tid, point)) or None

    def observed(self, action) -> None:
        self.observe(Action(action.what, action.tid, action.point))

    def poll(self) -> bool:
        """Move on while the engine says the current stage happened; True if anything changed."""
        changed = False
        while not self.done and not self.failed:
            if self.index < 0:
                if not self.spec.ready(self.probe):
                    break
                self.index, changed = 0, True
                continue
            s = self.stage
            if s.expect and not self.acted:
                break
            if not s.until(self.probe, self.numbers, self.clock()):
                break
            note = s.note(self.probe, self.numbers)
            if isinstance(note, Failed):
                self.failed = note
            self.notes.append(note)
            self.index, self.acted, changed = self.index + 1, False, True
        if not self.done and not self.failed and self.runner.done:
            self.failed = Failed("the run ended before the race was made: r starts it again")
            changed = True
        if self.done:
            self.finish()
        self.revision += changed
        return changed

    def finish(self) -> None:
        """The race is made: the run stops where it is, so that the threads table keeps the race's numbers (a
        stop ends held threads too: engine/holds.py)."""
        if not self.runner.done:
            self.runner.stop()

    def lines(self, keys: dict) -> list[str]:
        """The race so far, as Markdown lines: what happened at each stage, then what to do now."""
        out = [self.spec.intro.format(**keys)] if self.index >= 0 else ["Getting the threads into place…"]
        out += [f"- {n}" for n in self.notes]
        if self.failed:
            out.append(f"\n**✗ {self.failed}**")
        elif self.done:
            out.append(f"\n**✓ You made it.** {self.outcome}")
        elif self.stage is not None:
            s = self.stage
            # the arrow, not bold: the key names inside are bold already, and Markdown does not nest bold
            out.append(f"\n→ {s.do.format(**keys)}" if s.expect and not self.acted
                       else f"\n… {s.do.format(**keys)}")
            if self.wrong:
                out.append(f"\n{self.wrong}")
        return out


# ---- the races ------------------------------------------------------------------------------------------------
def _held(tid, *points):
    """Thread tid held at one of `points` (none given: anywhere). A stepped thread still reads as held where it
    was until it has left, so a stage after a step names the points it can get to next."""
    return lambda p, n, now: p.held_at(tid) in points if points else p.held_at(tid) is not None


def _after(tid, points, *outcomes):
    """Thread tid held at one of `points`, and one of its events of these outcomes drained from the ring."""
    return lambda p, n, now: p.held_at(tid) in points and any(len(p.events(tid, o)) for o in outcomes)


def _updates(tid, at_least=1):
    return lambda p, n, now: p.stats(tid).updates >= at_least


def _let_thread_1_publish(too_early: str, version: str) -> tuple[Stage, Stage]:
    """Thread 0 is held; thread 1, frozen, is thawed until it has published, then frozen again. `too_early`:
    why stepping thread 0 first spoils the race; `version`: where the shared model now is ({v}: its version)."""
    def frozen(p, n):
        n["n"] = p.stats(1).updates
        n["version"] = p.published()
        return (f"Thread 1 ran, then stopped at its {p.held_at(1)} point: it published {n['n']:,} update(s), so "
                + version.format(v=f"{n['version']:,}") + ".")
    return (
        Stage("Let thread 1 publish: select thread 1{select} and thaw it{thaw}.", (Action("thaw", 1),),
              _updates(1), lambda p, n: f"Thread 1 is running and publishing ({p.stats(1).updates:,} so far).",
              why_not={("step", 0): too_early,
                       ("thaw", 0): "Thread 0 must stay held until thread 1 has published."}),
        Stage("Enough: freeze thread 1 again{freeze}.", (Action("freeze", 1),), _held(1), frozen,
              why_not={("step", 0): "Freeze thread 1 first, so that the numbers stay still while you look."}),
    )


P_AT = "P now points to version {v}"
CAS_TOO_EARLY = ("Stepping thread 0 now runs its CAS while P still points to version 0: it would succeed, and "
                 "there would be no race.")


def _cas_failed(p, n):
    t = p.stats(0)
    failed = p.events(0, L.OUTCOME_CAS_FAILED)
    if t.cas_fail < 1 or len(failed) < 1:
        return Failed(f"Thread 0's CAS did not fail (failed CAS: {t.cas_fail}): P still pointed to the version "
                      "its candidate was built on. r starts the race again.")
    n["built_on"] = int(failed["t_applied"][0])
    return (f"**CAS failed**: thread 0 expected P to point to version {n['built_on']:,}, the version its "
            f"candidate was built on; P points to version {n['version']:,}. Failed CAS on thread 0: {t.cas_fail}.")


def _retried(p, n):
    e = p.events(0, L.OUTCOME_PUBLISHED)
    n["landed_on"], n["attempts"] = int(e["t_applied"][0]), int(e["attempts"][0])
    return (f"✓ Its second CAS succeeded: it published version {n['landed_on'] + 1:,} on top of version "
            f"{n['landed_on']:,}, {n['attempts']} attempts, staleness τ = {n['landed_on'] - n['built_on']:,} "
            "(the same g, computed on version 0).")


FAILED_CAS = RaceSpec(
    name="failed-cas", title="Make a CAS fail",
    settings=dict(algo="leashed", threads=2),
    setup=(Action("hold", 0, "cas"), Action("freeze", 1)),
    ready=lambda p: p.held_at(0) == "cas" and p.held_at(1) is not None,
    intro=("Leashed-SGD, 2 threads. Thread 0 computed its gradient g on version 0, built its candidate q on "
           "version 0, and is **held at cas**: CAS(P, version 0, q) is its next instruction. Thread 1 is frozen."),
    stages=(*_let_thread_1_publish(CAS_TOO_EARLY, P_AT),
            Stage("Now select thread 0{select} and step it{step}: its CAS runs.", (Action("step", 0),),
                  _after(0, ("retry", "start"), L.OUTCOME_CAS_FAILED, L.OUTCOME_PUBLISHED), _cas_failed),
            Stage("Step thread 0 again{step}: it rebuilds its candidate on the newest version, with the same g.",
                  (Action("step", 0),), _held(0, "cas"),
                  lambda p, n: f"Thread 0 built a new candidate on version {n['version']:,} and is at its CAS again."),
            Stage("Step it once more{step}: the CAS again.", (Action("step", 0),),
                  _after(0, ("start",), L.OUTCOME_PUBLISHED), _retried)),
    outcome=lambda n: (
        f"Thread 0's CAS failed because thread 1 published {n['n']:,} update(s) while it was held (P moved from "
        f"version {n['built_on']:,} to {n['version']:,}). Nothing was lost: the failed attempt cost one more "
        f"copy and apply, and the retry published the same gradient as version {n['landed_on'] + 1:,}. "
        "Next, in a terminal: `teach-sgd check --protocol leashed-no-recheck --show` walks the reclamation race "
        "that the re-check of acquire rules out, and `teach-sgd check --protocol leashed-untagged --show` the "
        "ABA that the sequence number in P rules out."),
)


def _dropped(p, n):
    t = p.stats(0)
    if t.dropped != 1 or t.updates != 0:
        return Failed(f"Thread 0's gradient was not dropped (dropped: {t.dropped}, published: {t.updates}).")
    n["dropped"] = len(p.events(0, L.OUTCOME_DROPPED))
    return (f"{_cas_failed(p, n)} With Tp = 0 there is no retry: g is dropped "
            f"(dropped: {t.dropped}, published: {t.updates}), and thread 0 is back at the start of a new update.")


DROP_TP0 = RaceSpec(
    name="drop-tp0", title="Make Tp = 0 drop a gradient",
    settings=dict(algo="leashed", threads=2, persistence=0),
    setup=FAILED_CAS.setup, ready=FAILED_CAS.ready,
    intro=("Leashed-SGD with Tp = 0 (one attempt per gradient), 2 threads. Thread 0 computed g on version 0, "
           "built its candidate, and is **held at cas**. Thread 1 is frozen."),
    stages=(*_let_thread_1_publish(CAS_TOO_EARLY, P_AT),
            Stage("Now select thread 0{select} and step it{step}: its one CAS runs.", (Action("step", 0),),
                  _after(0, ("start",), L.OUTCOME_DROPPED, L.OUTCOME_PUBLISHED), _dropped)),
    outcome=lambda n: (
        f"A drop at Tp = 0: thread 1 published {n['n']:,} update(s) while thread 0 was held, so thread 0's only "
        f"CAS failed and its gradient was thrown away (dropped = {n['dropped']}). Its work is wasted, but nothing "
        f"stale was published: its next gradient would start from the newest version, {n['version']:,}."),
)


def _lost_write(p, n):
    t = p.stats(0)
    n["lost"], n["sampled"], n["stride"] = t.lost_updates_sampled, t.sampled_writes, p.sample_stride()
    if n["lost"] < 1:
        return Failed(f"None of thread 0's {n['sampled']:,} sampled writes replaced a value other than the one it "
                      "had read: thread 1's updates left those coordinates unchanged. r starts the race again.")
    return (f"Thread 0 wrote old − η·g on every coordinate: on **{n['lost']:,} of its {n['sampled']:,} sampled "
            "coordinates** the value it replaced was not the one it had read — thread 1's writes, overwritten.")


def _lost_event(p, n):
    e = p.events(0, L.OUTCOME_PUBLISHED)
    return (f"Its update is counted, and its event carries lost = {int(e['lost'][0]):,}: a ! on the timeline "
            "(Tab to it).")


LOST_WRITE = RaceSpec(
    name="lost-write", title="Make HOGWILD! lose a write",
    settings=dict(algo="hogwild", threads=2),
    setup=(Action("hold", 0, "writing"), Action("freeze", 1)),
    ready=lambda p: p.held_at(0) == "writing" and p.held_at(1) is not None,
    intro=("HOGWILD! (no lock), 2 threads. Thread 0 computed its gradient g and **read every coordinate it "
           "updates** (version 0's values): it is held at writing, before its first store. Thread 1 is frozen."),
    stages=(*_let_thread_1_publish(
                "Stepping thread 0 now stores its values while nobody else has written: nothing would be lost, "
                "and there would be no race.", "θ now holds {v} applied update(s)"),
            Stage("Now select thread 0{select} and step it{step}: it stores old − η·g on every coordinate.",
                  (Action("step", 0),), _held(0, "counted"), _lost_write),
            Stage("Step it once more{step}: its update is counted.", (Action("step", 0),),
                  _after(0, ("start",), L.OUTCOME_PUBLISHED), _lost_event)),
    outcome=lambda n: (
        f"A lost write: thread 0 read θ, was held while thread 1 applied {n['n']:,} update(s), then stored its old "
        f"values minus η·g over them. {n['lost']:,} of its {n['sampled']:,} sampled coordinate writes overwrote "
        f"thread 1's; the sample observes one coordinate in {n['stride']:,}, and on every other coordinate "
        "thread 1 changed, thread 0's store erased that change the same way, unobserved. No thread knows. "
        "That is a data race: a read-modify-write that another thread's write slipped into."),
)


def _lock_taken(p, n):
    n["version"] = p.published()
    return (f"Thread 0 took the lock: θ is at version {n['version']:,}, with thread 1's updates in it. Thread 1 "
            "cannot touch θ until thread 0 lets go.")


def _lock_applied(p, n):
    e = p.events(0, L.OUTCOME_PUBLISHED)
    n["read"], n["landed_on"] = int(e["t_read"][0]), int(e["t_applied"][0])
    return (f"Thread 0 applied θ ← θ − η·g to version {n['landed_on']:,} and released the lock: version "
            f"{n['landed_on'] + 1:,}, staleness τ = {n['landed_on'] - n['read']:,}.")


LOCK_KEEPS = RaceSpec(
    name="lock-keeps", title="Try the same with the lock",
    settings=dict(algo="lock", threads=2),
    setup=(Action("hold", 0, "waiting"), Action("freeze", 1)),
    ready=lambda p: p.held_at(0) == "waiting" and p.held_at(1) is not None,
    intro=("LOCK, 2 threads. Thread 0 copied θ (version 0) under the lock, computed g, and is **held at "
           "waiting**: next it takes the lock to apply g. LOCK has no point between reading θ for the write and "
           "writing it — both happen inside the lock — so this is as close to the HOGWILD! race as it gets. "
           "Thread 1 is frozen."),
    stages=(Stage("Let thread 1 update: select thread 1{select} and thaw it{thaw} (leave it running).",
                  (Action("thaw", 1),), _updates(1),
                  lambda p, n: f"Thread 1 is applying updates ({p.stats(1).updates:,} so far).",
                  why_not={("step", 0): "Let thread 1 update first: that is the write thread 0 could lose."}),
            Stage("Select thread 0{select} and step it{step}: it takes the lock.", (Action("step", 0),),
                  _held(0, "holding"), _lock_taken,
                  why_not={("freeze", 1): "Leave thread 1 running: a thread frozen inside the lock would stop "
                                          "thread 0 from taking it."}),
            Stage("Let it finish: continue{continue}.", (Action("continue"), Action("thaw", 0)),
                  lambda p, n, now: len(p.events(0, L.OUTCOME_PUBLISHED)) >= 1, _lock_applied,
                  why_not={("step", 0): "Stepping goes one point at a time; continue lets it finish the update."})),
    outcome=lambda n: (
        f"Nothing lost: thread 0's gradient, computed on version {n['read']:,}, was applied on top of thread 1's "
        f"{n['landed_on'] - n['read']:,} update(s) — version {n['landed_on']:,} → {n['landed_on'] + 1:,} — not "
        "over them. Under the lock a thread reads θ for its write only once it holds the lock, so no other write "
        "can slip in between. The price: the update is stale (τ = "
        f"{n['landed_on'] - n['read']:,}), and while thread 0 held the lock, thread 1 could only wait."),
)


def _watch(tid):
    """A stage the engine ends: WATCH_S seconds with thread tid held, the others' updates counted."""
    def until(p, n, now):
        if "watch_from" not in n:
            n["watch_from"], n["others_before"] = now, p.others_updates(tid)
        return now - n["watch_from"] >= WATCH_S
    return until


def _watched(tid, blocking: bool):
    """What the others published while thread tid was held; a count that contradicts the guarantee being shown
    (blocking: 0) ends the race saying so, rather than telling the lesson's story over it."""
    def note(p, n):
        n["others"] = p.others_updates(tid) - n["others_before"]
        n["point"] = p.held_at(tid)
        n["rate"] = n["others"] / WATCH_S
        said = (f"For {WATCH_S:g} s with thread {tid} held at {n['point']}, the other threads published "
                f"**{n['others']:,} updates** ({n['rate']:,.0f} updates/s).")
        if (n["others"] == 0) != blocking:
            return Failed(said + " That is not what this step expected: r starts it again.")
        return said
    return note


def _resumed(p, n):
    n["after"] = p.others_updates(0) - n["others_before"] - n["others"]
    return f"Let go, the others published again ({n['after']:,} updates since)."


LOCK_CONVOY = RaceSpec(
    name="lock-convoy", title="Freeze the lock holder",
    settings=dict(algo="lock", threads=3),
    setup=(), ready=lambda p: p.published() >= 3,
    intro="LOCK, 3 threads, all running at full speed.",
    stages=(Stage("Select thread 0{select} and set its breakpoint to **holding**{hold}: inside the lock.",
                  (Action("hold", 0, "holding"), Action("hold", 0, "copied"), Action("hold", 0, "applied")),
                  lambda p, n, now: (p.held_at(0) in ("holding", "copied", "applied")
                                     and all(p.stats(t).state == "lock wait" for t in (1, 2))),
                  lambda p, n: f"Thread 0 is held at {p.held_at(0)}, holding the lock; threads 1 and 2 are in "
                               "lock wait.",
                  why_not={("freeze", 0): "A freeze stops it at its next point, wherever that is — most often "
                                          "outside the lock. Hold it at holding instead."},
                  passes=(Action("hold", 0), Action("unhold", 0))),
            Stage("Watch the threads table for a second…", (), _watch(0), _watched(0, blocking=True)),
            Stage("Let thread 0 go: move its breakpoint on to read{hold}, outside the lock, or clear every "
                  "breakpoint{clear}.",
                  (Action("clear"), Action("unhold", 0), *(Action("hold", 0, p) for p in ("read", "computed",
                                                                                           "waiting", "start"))),
                  lambda p, n, now: p.others_updates(0) > n["others_before"] + n["others"], _resumed,
                  why_not=dict.fromkeys([("continue", None), ("thaw", 0)],
                                        "That lets thread 0 go but keeps its breakpoint at holding: it would stop "
                                        "inside the lock again at once, before the others get in."))),
    outcome=lambda n: (
        f"A lock convoy: while thread 0 sat inside its critical section, threads 1 and 2 published "
        f"{n['others']:,} updates in {WATCH_S:g} s — everyone queued behind the one stopped thread. LOCK is "
        "*blocking*: a thread that stops while holding the lock (held here; descheduled, or page-faulting, in "
        "real life) stops all."),
)


def _thawed(p, n):
    return f"Thread 0 runs again (it has published {p.stats(0).updates:,} update(s) in all)."


LEASHED_FROZEN = RaceSpec(
    name="leashed-frozen", title="Freeze a Leashed-SGD thread",
    settings=dict(algo="leashed", threads=3),
    setup=(), ready=lambda p: p.published() >= 3,
    intro="Leashed-SGD, 3 threads, all running at full speed.",
    stages=(Stage("Select thread 0{select} and freeze it{freeze}, wherever it is.", (Action("freeze", 0),), _held(0),
                  lambda p, n: f"Thread 0 is frozen at {p.held_at(0)}."),
            Stage("Watch the threads table for a second…", (), _watch(0), _watched(0, blocking=False)),
            Stage("Thaw thread 0{thaw}.", (Action("thaw", 0),), lambda p, n, now: p.held_at(0) is None, _thawed)),
    outcome=lambda n: (
        f"Frozen at {n['point']}, thread 0 stopped no one: the others published {n['others']:,} updates in "
        f"{WATCH_S:g} s ({n['rate']:,.0f} updates/s). Leashed-SGD is *lock-free*: whichever threads stop, wherever, "
        "the others still complete their updates: none of them waits for the frozen one."),
)


def _torn(p, n):
    t = p.stats(0)
    n["torn"] = t.torn_reads
    if t.torn_reads < 1:
        return Failed("Thread 0's copy was not counted as torn (torn: 0). r starts the race again.")
    return (f"Thread 0 copied θ while thread 1's update was in flight (ticket taken, not yet counted): its torn "
            f"counter reads **{t.torn_reads}**.")


TORN_READ = RaceSpec(
    name="torn-read", title="Make a torn-read count",
    settings=dict(algo="hogwild", threads=2),
    setup=(Action("hold", 1, "writing"), Action("freeze", 0)),
    ready=lambda p: p.held_at(1) == "writing" and p.held_at(0) is not None,
    intro=("HOGWILD!, 2 threads. Thread 1's update is **in flight**: it took its apply ticket and read the "
           "coordinates it updates, and is held at writing, before its first store. Thread 0 is frozen before "
           "its copy of θ."),
    stages=(Stage("Select thread 0{select} and step it{step}: it copies θ.", (Action("step", 0),), _held(0, "read"),
                  _torn, why_not={("step", 1): "Leave thread 1's update in flight: thread 0 copies θ first."}),
            Stage("Now select thread 1{select} and step it{step}: its stores land.", (Action("step", 1),),
                  _held(1, "counted"),
                  lambda p, n: "Thread 1's update is counted — after thread 0's copy, which is now one version old.")),
    outcome=lambda n: (
        f"The counter counted it (torn = {n['torn']}): thread 0's copy overlapped an update that had started and "
        "not finished. Yet this copy is whole: thread 1 was held before its first store, so thread 0 read version "
        "0 on every coordinate. The counter sees the overlap, not the tearing itself, so it is an upper bound. "
        "A real tear needs the loads and the stores to interleave coordinate by coordinate: the scheduler "
        "challenge *Produce a torn read* (g) lets you schedule exactly that."),
)


RACES = {r.name: r for r in (LOST_WRITE, LOCK_KEEPS, LOCK_CONVOY, TORN_READ, FAILED_CAS, DROP_TP0, LEASHED_FROZEN)}

__all__ = ["Action", "GuidedRace", "RaceSpec", "Reply", "Stage", "RACES", "ACTIONS"]
