"""The two boards a challenge is played on, behind one small interface:

    game.threads, game.schedule         how many threads; the thread ids stepped so far
    game.enabled()                      threads that may step now
    game.step(tid) -> [str]             one step; sentences for what it caused (events)
    game.last_text                      what the latest step did, in words
    game.undo()                         take the last step back (exactly: the prefix is replayed)
    game.facts() -> {name: value}       what a goal rule may name
    game.key()                          a hashable summary of everything that decides the future (for search)
    game.next_text(tid), game.state_text()   what the screen shows

MachineGame wraps the SGD step machine (machine.py): lost updates, failed CAS, drops, delays, growth
(‖X−x*‖² over its start), and torn reads, which the machine does not record itself: a thread's view is torn when it equals none of the
values X held while the thread was reading it (so no single moment of X is what it read).
ProtocolGame wraps a protocol model (protocol.py): slots, references and versions.
"""
from __future__ import annotations

import math

import numpy as np

from ..machine import Machine
from ..program import Op
from ..protocol import LOST_UPDATE, STALE_READ


class MachineGame:
    def __init__(self, machine: Machine):
        self.machine = machine
        self.threads = machine.threads
        self._start = max(machine.distance2(), 1e-12)
        self._replay([])

    @property
    def schedule(self) -> list[int]:
        return list(self.machine.schedule)

    def _replay(self, schedule) -> None:
        self.machine.reset()
        self._history = [self.machine.shared()]     # X after 0, 1, 2, … steps
        self._reading_since = [None] * self.threads  # the step at which each thread's current reads began
        self.torn_reads = 0
        for tid in schedule:
            self.step(tid)

    def enabled(self) -> list[int]:
        return self.machine.enabled_threads()

    def step(self, tid: int) -> list[str]:
        m = self.machine
        at = m.steps
        instr = m.next_instr(tid)
        op = instr.op
        if op is Op.READ and self._reading_since[tid] is None:
            self._reading_since[tid] = at
        events = [str(e) for e in m.step(tid)]
        self.last_text = str(instr)
        self._history.append(m.shared())
        if op is Op.READ and m.next_instr(tid).op is not Op.READ:   # the thread's last READ
            since, self._reading_since[tid] = self._reading_since[tid], None
            view = m.thread_view(tid)
            if not any(np.array_equal(view, x) for x in self._history[since:at + 1]):
                self.torn_reads += 1
                events.append(f"step {at + 1}: thread {tid} read a TORN view {np.round(view, 4).tolist()}: "
                              "X never held it at any one moment")
        return events

    def undo(self) -> None:
        self._replay(self.machine.schedule[:-1])

    def facts(self) -> dict:
        m = self.machine
        return {"steps": m.steps, "completed": m.completed, "lost_updates": m.lost_updates,
                "cas_failures": m.cas_failures, "dropped": m.dropped, "max_delay": m.max_delay,
                "torn_reads": self.torn_reads, "growth": m.distance2() / self._start}

    def key(self):
        m = self.machine
        threads = tuple((i.pc, _values(i.view), _values(i.gradient), i.delay, i.cas_failures, i.version_read,
                         i.version_base, i.writes_since_load, self._reading_since[i.thread] is not None)
                        for i in map(m.thread_info, range(self.threads)))
        if not getattr(m.objective, "noise", 1):
            # exact gradients: threads differ only in their state, never in what they will compute, so
            # boards that are permutations of each other have the same futures (symmetry reduction)
            threads = tuple(sorted(threads, key=repr))
        return _values(m.shared()), threads, tuple(self.facts().items())

    def next_text(self, tid: int) -> str:
        return str(self.machine.next_instr(tid))

    def state_text(self) -> str:
        m = self.machine
        x = ", ".join(f"{v:.4g}" for v in m.shared())
        return (f"X = ({x})   ‖X−x*‖² = {m.distance2():.4g}   completed {m.completed}   lost updates "
                f"{m.lost_updates}   failed CAS {m.cas_failures}   dropped {m.dropped}   max delay {m.max_delay}")


class ProtocolGame:
    def __init__(self, model):
        self.model = model
        self.threads = model.threads
        self._replay([])

    def _replay(self, schedule) -> None:
        self.state = self.model.initial()
        self.schedule: list[int] = []
        self.stale_reads = 0
        self.published_steps = 0
        for tid in schedule:
            self.step(tid)

    def enabled(self) -> list[int]:
        return self.model.enabled(self.state)

    def step(self, tid: int) -> list[str]:
        if tid not in self.enabled():
            raise ValueError(f"thread {tid} has finished")
        self.state, tr = self.model.step(self.state, tid)
        self.schedule.append(tid)
        self.last, self.last_text = tr, tr.text
        self.stale_reads += sum(1 for prop, _ in tr.broken if prop == STALE_READ)
        events = [f"✗ {why}" for _, why in tr.broken]
        lost = self.model.invariants(self.state).get(LOST_UPDATE)
        if lost:
            events.append(f"✗ LOST UPDATE: {lost}")
        return events

    def undo(self) -> None:
        self._replay(self.schedule[:-1])

    def facts(self) -> dict:
        return {"steps": len(self.schedule), "lost_update": LOST_UPDATE in self.model.invariants(self.state),
                "stale_reads": self.stale_reads, "done": self.model.done(self.state)}

    def key(self):
        return self.state, self.stale_reads

    def next_text(self, tid: int) -> str:
        if tid not in self.enabled():
            return "done"
        step = self.model.step(self.state, tid)[1].step
        return f"{step.name}   ({step.source.rpartition('.')[2]})"

    def state_text(self) -> str:
        return self.model.describe(self.state)


def _values(a):
    """An array as a hashable tuple (NaN, a coordinate not read yet, as None so that it compares equal)."""
    if a is None:
        return None
    return tuple(None if math.isnan(v) else float(v) for v in a)
