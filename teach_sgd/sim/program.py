"""The programs the virtual threads run: one instruction per scheduler step.

A thread is an explicit program counter into one of three programs, so a scheduler (or a learner) can stop it
between any two shared-memory accesses. Only READ, FETCH_ADD, LOAD, STORE, READ_POINTER, READ_LATEST and CAS
touch shared memory; GRADIENT and BUILD are local, and are separate steps so that others can run meanwhile.

mode "faa" — the model of Alistarh, De Sa and Konstantinov (PODC 2018): atomic reads and fetch-and-add.
    READ x[0] … READ x[d-1]        view[j] ← X[j]        (the view can mix old and new coordinates)
    GRADIENT                       g ← ∇̃f(view)
    FAA x[0] … FAA x[d-1]          X[j] += −α·g[j]       (atomic: no update is ever lost)

mode "hogwild" — HOGWILD!'s racy in-place write: `X[j] −= α·g[j]` is a load and a store.
    READ x[0] … READ x[d-1], GRADIENT, then LOAD x[j]; STORE x[j] for each j
    LOAD x[j]                      r ← X[j]
    STORE x[j]                     X[j] ← r − α·g[j]     (erases any write to X[j] since the LOAD: lost update)

mode "leashed" — Leashed-SGD: immutable versions behind one pointer P.
    READ_POINTER                   p ← P; t0 ← p.t       (a whole, consistent version)
    GRADIENT                       g ← ∇̃f(p.θ)
    READ_LATEST                    p ← P; t1 ← p.t       (the version to build on)
    BUILD                          q ← p.θ − α·g; q.t ← t1 + 1   (private)
    CAS                            CAS(P, p, q): fails iff someone published since READ_LATEST;
                                   then back to READ_LATEST with the same g, or drop g after the
                                   persistence bound Tp
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

MODES = ("faa", "hogwild", "leashed")


class Op(enum.Enum):
    READ = "READ"
    GRADIENT = "GRADIENT"
    FETCH_ADD = "FAA"
    LOAD = "LOAD"
    STORE = "STORE"
    READ_POINTER = "READ_POINTER"
    READ_LATEST = "READ_LATEST"
    BUILD = "BUILD"
    CAS = "CAS"


_TEXT = {
    Op.READ: "view[{j}] ← X[{j}]",
    Op.GRADIENT: "g ← ∇̃f(view)",
    Op.FETCH_ADD: "X[{j}] += −α·g[{j}]   (fetch-and-add)",
    Op.LOAD: "r ← X[{j}]",
    Op.STORE: "X[{j}] ← r − α·g[{j}]",
    Op.READ_POINTER: "p ← P; t0 ← p.t",
    Op.READ_LATEST: "p ← P; t1 ← p.t",
    Op.BUILD: "q ← p.θ − α·g; q.t ← t1 + 1",
    Op.CAS: "CAS(P, p, q)",
}


@dataclass(frozen=True)
class Instr:
    """One step of a thread's program; `coord` is the shared coordinate it touches, if any."""

    op: Op
    coord: int | None = None

    def __str__(self) -> str:
        return _TEXT[self.op].format(j=self.coord)


def program(mode: str, d: int) -> tuple[Instr, ...]:
    """The instructions of one SGD iteration in `mode` on a d-dimensional model."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if d < 1:
        raise ValueError("the model needs at least one coordinate")
    if mode == "leashed":
        return (Instr(Op.READ_POINTER), Instr(Op.GRADIENT), Instr(Op.READ_LATEST), Instr(Op.BUILD), Instr(Op.CAS))
    reads = tuple(Instr(Op.READ, j) for j in range(d))
    if mode == "faa":
        writes = tuple(Instr(Op.FETCH_ADD, j) for j in range(d))
    else:
        writes = tuple(Instr(op, j) for j in range(d) for op in (Op.LOAD, Op.STORE))
    return reads + (Instr(Op.GRADIENT),) + writes


def retry_pc(prog: tuple[Instr, ...]) -> int:
    """Where a Leashed thread goes after a failed CAS: it keeps its gradient and re-reads P."""
    return next(i for i, ins in enumerate(prog) if ins.op is Op.READ_LATEST)


def gradient_pc(prog: tuple[Instr, ...]) -> int:
    return next(i for i, ins in enumerate(prog) if ins.op is Op.GRADIENT)
