"""Models of the in-place protocols: HOGWILD!'s racy read-modify-write, and fetch-and-add.

θ has `coords` coordinates, all starting at 0. A thread applies each of its gradients coordinate by
coordinate:

    hogwild   LOAD r ← θ[j]; STORE θ[j] ← r − g       (two steps: a write in between is erased)
    faa       FAA θ[j] += −g                          (one atomic step: nothing is ever erased)

Reading θ and computing the gradient do not change θ, and the gradients here do not depend on θ (they are
fixed integers, see protocol.py), so the model leaves the read phase out: it cannot change which updates
survive. A gradient is published when its last coordinate is written.

State: (θ, threads), a thread being (k, pos, r): its k-th gradient, the position in that gradient's program
and the value its LOAD saw (0 when it holds none, so equal situations hash equal).
"""
from __future__ import annotations

from .protocol import LOST_UPDATE, Step, Transition, gradient, missing

LOAD = Step("LOAD θ[j]", "teach_sgd.engine.hogwild.racy_apply", ("theta", "g", "lr", "sparse"),
            "theta[i] -= step * g[i]")
STORE = Step("STORE θ[j]", "teach_sgd.engine.hogwild.racy_apply", ("theta", "g", "lr", "sparse"),
             "theta[i] -= step * g[i]")
FAA = Step("FAA θ[j]", "teach_sgd.sim.machine.Machine.step", ("self", "tid"),
           "self._x[j] += -self.alpha * th.grad[j]")


class Racy:
    """HOGWILD! (`atomic=False`) or fetch-and-add (`atomic=True`) on `threads` threads."""

    def __init__(self, threads: int, updates: int, coords: int = 1, atomic: bool = False):
        self.name = "faa" if atomic else "hogwild"
        self.threads, self.updates, self.coords, self.atomic = threads, updates, coords, atomic
        self.steps = (FAA,) if atomic else (LOAD, STORE)
        self.properties = (LOST_UPDATE,)  # each gradient is published by its last write: nothing else to check
        self._per_gradient = coords if atomic else 2 * coords

    def initial(self):
        return ((0,) * self.coords, ((0, 0, 0),) * self.threads)

    def done(self, state) -> bool:
        return all(k == self.updates for k, _, _ in state[1])

    def enabled(self, state) -> list[int]:
        return [t for t, (k, _, _) in enumerate(state[1]) if k < self.updates]

    def step(self, state, tid: int):
        theta, threads = state
        k, pos, r = threads[tid]
        g = gradient(tid, k, self.updates)
        theta = list(theta)
        if self.atomic:
            j = pos
            theta[j] -= g
            step, text, r = FAA, f"θ[{j}] += −g{tid * self.updates + k} → θ[{j}] = {theta[j]}", 0
        elif pos % 2 == 0:
            j = pos // 2
            step, r = LOAD, theta[j]
            text = f"LOAD r ← θ[{j}] = {r}"
        else:
            j = pos // 2
            theta[j] = r - g
            step, r = STORE, 0
            text = f"STORE θ[{j}] ← r − g{tid * self.updates + k} = {theta[j]}"
        pos += 1
        if pos == self._per_gradient:
            k, pos = k + 1, 0
            text += f" (gradient g{tid * self.updates + k - 1} published)"
        threads = threads[:tid] + ((k, pos, r),) + threads[tid + 1:]
        return (tuple(theta), threads), Transition(step, tid, text)

    def published(self, state) -> int:
        """The gradients whose every coordinate has been written, as a bit mask."""
        mask = 0
        for tid, (k, _, _) in enumerate(state[1]):
            for kk in range(k):
                mask |= gradient(tid, kk, self.updates)
        return mask

    def invariants(self, state) -> dict:
        """Checked when every thread is done: each coordinate is θ0 − Σ of all gradients (all were published).
        In flight, a coordinate legitimately holds part of the gradients, so earlier states are not judged."""
        if not self.done(state):
            return {}
        broken = {}
        published = self.published(state)
        for j, v in enumerate(state[0]):
            if v != -published:
                broken[LOST_UPDATE] = f"θ[{j}] = {v}: {missing(v, published)}"
                break
        return broken

    def describe(self, state) -> str:
        return "θ = (" + ", ".join(map(str, state[0])) + ")"
