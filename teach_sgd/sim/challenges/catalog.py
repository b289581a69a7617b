"""The challenges, easy to hard. Each is a board, a goal rule and a step limit.

A goal is a rule in the lessons' rule language (lessons/rules.py) over the board's facts (game.py): e.g.
`lost_updates >= 1`, `max_delay >= 3`, `diverged`. A challenge marked `impossible` has a goal no schedule can
reach; its `proof` is what the verdict shows when the learner runs out of steps, and the test suite proves it
(the checker for a protocol board, an exhaustive search within the step limit for the machine).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..check import make_model
from ..machine import Machine
from ..objectives import Quadratic
from ..sweep import predicted_threshold
from .game import MachineGame, ProtocolGame


@dataclass(frozen=True)
class Challenge:
    id: str
    title: str
    goal: str            # the rule that wins
    limit: int           # at most this many steps
    task: str            # the goal in words
    board: dict          # {"machine": Machine kwargs} or {"protocol": name, "threads": n, "updates": k}
    hints: tuple = ()
    impossible: bool = False
    proof: str = ""
    why: str = ""        # what the win shows, for the verdict

    def new_game(self):
        if "protocol" in self.board:
            b = self.board
            return ProtocolGame(make_model(b["protocol"], b["threads"], b["updates"], b.get("persistence")))
        spec = dict(self.board["machine"])
        objective = Quadratic(d=spec.pop("d", 1))
        return MachineGame(Machine(objective, **spec))


def _machine(**kw) -> dict:
    return {"machine": {"alpha": 0.1, **kw}}


TAU = 3
ALPHA_HIGH, ALPHA_LOW = 1.0, 0.4    # the threshold 2/((τ+1)c) is 0.5 at τ = 3, c = 1

CHALLENGES = (
    Challenge(
        "lose-update", "Lose a HOGWILD! update", "lost_updates >= 1", 8,
        "Two HOGWILD! threads each add their gradient to x[0]. Make one of the two updates vanish.",
        _machine(threads=2, mode="hogwild"),
        hints=("A STORE writes r − α·g, where r is what its LOAD saw.",
               "Let thread 0 LOAD, then let thread 1 finish its whole update before thread 0 STOREs."),
        why="thread 0's STORE wrote a value computed from an x[0] that thread 1 had changed since: a racy "
            "read-modify-write erases the write in between."),
    Challenge(
        "torn-read", "Produce a torn read", "torn_reads >= 1", 8,
        "Make a thread read a view of (x[0], x[1]) that X never held at any single moment.",
        _machine(threads=2, mode="faa", d=2),
        hints=("A thread reads x[0] and x[1] in two separate steps.",
               "Let thread 0 read x[0], let thread 1 complete an update, then let thread 0 read x[1]."),
        why="the view mixes x[0] from before thread 1's update with x[1] from after it."),
    Challenge(
        "lose-two", "Erase two updates with one STORE", "lost_updates >= 2", 12,
        "Three HOGWILD! threads: make a single STORE erase two other threads' writes.",
        _machine(threads=3, mode="hogwild"),
        hints=("One LOAD, then two complete updates, then the STORE of the first.",),
        why="a STORE erases every write to its coordinate since its LOAD, however many."),
    Challenge(
        "cas-fail", "Make a Leashed CAS fail", "cas_failures >= 1", 10,
        "Two Leashed-SGD threads: make a compare-and-swap on P fail.",
        _machine(threads=2, mode="leashed"),
        hints=("A CAS fails when P moved after the thread's READ_LATEST.",
               "Bring thread 0 up to its CAS, then let thread 1 publish first."),
        why="the CAS compares P with the version the candidate was built on; someone published in between, "
            "so the candidate would have erased that update. Instead the thread retries."),
    Challenge(
        "drop-tp0", "Make Tp = 0 drop a gradient", "dropped >= 1", 10,
        "With persistence Tp = 0 a thread gets one CAS per gradient. Make a gradient be dropped.",
        _machine(threads=2, mode="leashed", persistence=0),
        hints=("One failed CAS is enough when Tp = 0.",),
        why="with Tp = 0 a failed CAS gives the gradient up at once: it is dropped, never applied twice or "
            "half-applied."),
    Challenge(
        "stale-3", "Staleness 3 with two threads", "max_delay >= 3", 12,
        "Finish an update whose delay is 3: three other updates completed while it was in flight.",
        _machine(threads=2, mode="faa"),
        hints=("Only two threads: the other one must complete three times.",
               "Start thread 0 (one READ), run thread 1 through three whole iterations, then finish thread 0."),
        why="delay is not bounded by the thread count: one slow thread can see any number of updates pass."),
    Challenge(
        "diverge", "Blow up at α = 1 with τ_max = 3", "growth >= 5", 12,
        f"Four threads, τ_max = {TAU}, α = {ALPHA_HIGH}: push ‖X − x*‖² to 5 times its start.",
        _machine(threads=4, mode="faa", alpha=ALPHA_HIGH, tau_max=TAU),
        hints=("Updates computed on the same stale x all push the same way.",
               "Let all four threads READ and compute their gradient first, then let them FAA one by one."),
        why=f"four updates computed on the same x overshoot: x ↦ (1 − 4α)·x = −3x, and every further round "
            f"multiplies by −3 again: the run diverges. The stale-read adversary diverges exactly when "
            f"α ≥ 2/((τ+1)c) = {predicted_threshold(TAU, 1.0):g}."),
    Challenge(
        "no-diverge", "Now blow up at α = 0.4", "growth > 1", 12,
        f"The same machine with α = {ALPHA_LOW}, below 2/((τ+1)c) = {predicted_threshold(TAU, 1.0):g}. "
        "Make ‖X − x*‖² grow above its start at all, in the 12 steps that were enough at α = 1.",
        _machine(threads=4, mode="faa", alpha=ALPHA_LOW, tau_max=TAU),
        hints=("The best you did at α = 1 was to let four stale updates pile up. What does that do here?",),
        impossible=True,
        proof=f"No schedule of at most 12 steps makes ‖X − x*‖² grow at α = {ALPHA_LOW}: the test suite tries "
              "every one (tests/test_challenges.py). Four updates on one stale x give x ↦ (1 − 4·0.4)·x = "
              "−0.6x, a contraction, and τ_max = 3 allows no more than four in flight; `teach-sgd simulate` "
              f"sweeps α and finds the stale-read adversary converging below {predicted_threshold(TAU, 1.0):g} "
              f"for τ_max = {TAU}."),
    Challenge(
        "use-after-free", "Use after free without the re-check", "stale_reads >= 1", 30,
        "Leashed-SGD without the re-check of P after taking a reference. Make a thread read a slot that was "
        "freed and reused for another version.",
        {"protocol": "leashed-no-recheck", "threads": 2, "updates": 2},
        hints=("A reader reads P, then takes a reference: what if the slot changed hands in between?",
               "Let thread 1 read P and stop. Let thread 0 publish a new version, so the old slot is freed, and "
               "claim that slot for its next candidate. Now let thread 1 take its reference."),
        why="the reference was taken on a slot that already held someone else's candidate; the re-check "
            "(P still names the word read) is what makes a reference safe."),
    Challenge(
        "aba", "ABA without the sequence tag", "lost_update", 45,
        "Leashed-SGD whose pointer P is a bare slot number, without a sequence tag. Make a CAS succeed that "
        "should fail, and lose updates.",
        {"protocol": "leashed-untagged", "threads": 2, "updates": 2},
        hints=("A thread builds on slot s and releases it before its CAS.",
               "While it waits, publish twice from the other thread so that slot s is freed, reused and "
               "published again: P names slot s once more."),
        why="the CAS saw the same slot number and succeeded, replacing newer versions: the sequence tag in "
            "(t, slot) is what makes P's words unique."),
    Challenge(
        "leashed-no-loss", "Make Leashed-SGD lose an update", "lost_update", 60,
        "Real Leashed-SGD, two threads, two gradients each. Make the published version miss a published "
        "gradient.",
        {"protocol": "leashed", "threads": 2, "updates": 2},
        hints=("Try the ABA schedule that broke the untagged variant.",),
        impossible=True,
        proof="`teach-sgd check --protocol leashed --threads 2 --updates 2` explores every reachable state "
              "(thousands) and finds 0 violations: no schedule of any length loses an update."),
)

BY_ID = {c.id: c for c in CHALLENGES}
