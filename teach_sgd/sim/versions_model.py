"""A step-level model of Leashed-SGD's version protocol: engine/leashed.py on top of engine/versions.py.

One model step is one atomic access of the real code (a load, a CAS, a fetch-and-add), or one access of a
slot's parameters (computing the gradient on p, building q from p). Calls and returns between the engine
functions take no step: the model keeps a small return stack, as the real thread does.

    worker          for each gradient: compute_gradient, then publish_with_retries
    compute_gradient acquire → read slab[p] (gradient) → release p
    try_publish     acquire → claim q → build q = p − η·g → release p → publish CAS(P, word, (t+1, q))
                    success: release p (P's own reference);  failure: release q, then retry or drop (Tp)
    acquire         read P → retain (rc[s]++ unless 0) → re-check P == word (else release, retry)
    release         rc[s]−− → if that freed s: LIVE−−
    claim           LIVE++ → probe slots from 2·tid: CAS(rc[s], 0 → 1)

Two folds keep the model exact: `_retain_live`'s load + CAS loop is one step (a failed CAS changes nothing,
so only the successful one, or a load that saw 0, is visible), and a probe's load + CAS is one step (a load
that sees 0 followed by a failed CAS is the same as a probe that saw the slot taken). The PEAK update in
`claim` is telemetry (a maximum nobody acts on) and the stop and budget checks end a run, which the model
never does.

Broken variants:
    leashed-no-recheck   acquire skips the re-check: a reader can take a reference on a slot that was freed
                         and already reused for someone's candidate, and read it (use after free)
    leashed-untagged     P and the CAS compare the slot only, no sequence number: a slot freed and republished
                         while a thread was building looks unchanged, and its CAS erases updates (ABA)

State: (P, LIVE, rc, θ, label, published, dropped, threads). P = (t, slot). θ[s] and label[s] are the
parameters and the version number held by slot s (label −1: claimed, being built; a free slot is reset to
(0, −1), as nothing can read it before it is claimed again). A thread is (pc, k, fails, word, q, s, r,
stack): its next step, its gradient, failed CASes, the word it read from P, its candidate, its probe
position, the slot it is releasing and its return stack.
"""
from __future__ import annotations

from .protocol import EXACTLY_ONCE, LIVE_BOUND, LOST_UPDATE, STALE_READ, Step, Transition, gradient, missing

V, L = "teach_sgd.engine.versions", "teach_sgd.engine.leashed"
READ_P = Step("read P", f"{V}.acquire", ("control", "rc"), "word = atomics.load(control, CLOCK)")
RETAIN = Step("retain", f"{V}._retain_live", ("rc", "s"), "if atomics.cas(rc, s, held, held + 1) == held:")
RECHECK = Step("re-check P", f"{V}.acquire", ("control", "rc"), "if atomics.load(control, CLOCK) == word:")
DEC = Step("drop reference", f"{V}.release", ("control", "rc", "s"), "if atomics.fetch_add(rc, s, -1) == 1:")
LOWER = Step("LIVE−−", f"{V}.release", ("control", "rc", "s"), "atomics.fetch_add(control, LIVE, -1)")
RAISE = Step("LIVE++", f"{V}.claim", ("control", "rc", "first"), "live = atomics.fetch_add(control, LIVE, 1) + 1")
PROBE = Step("claim slot", f"{V}.claim", ("control", "rc", "first"),
             "if atomics.load(rc, s) == 0 and atomics.cas(rc, s, 0, 1) == 0:")
GRADIENT = Step("gradient on p", f"{L}.compute_gradient", ("sh", "data", "logs", "model", "me", "rows"),
                "gradient.compute(")
BUILD = Step("build q", f"{L}.try_publish", ("sh", "logs", "model", "me", "t0", "width"),
             "new_version(model.slab[q], model.slab[p], me.grad, step")
PUBLISH = Step("CAS on P", f"{V}.publish", ("control", "expected", "t_new", "slot"),
               "return atomics.cas(control, CLOCK, expected, pack(t_new, slot)) == expected")
STEPS = (READ_P, RETAIN, RECHECK, DEC, LOWER, RAISE, PROBE, GRADIENT, BUILD, PUBLISH)
DONE = "done"

VARIANTS = {"leashed": (True, True), "leashed-no-recheck": (False, True), "leashed-untagged": (True, False)}


class Leashed:
    """The version protocol on `threads` threads with K = 2m + 1 slots; `persistence` is Tp (None: ∞)."""

    def __init__(self, threads: int, updates: int, persistence: int | None = None, variant: str = "leashed"):
        self.name = variant
        self.recheck, self.tagged = VARIANTS[variant]
        self.threads, self.updates, self.persistence = threads, updates, persistence
        self.slots = 2 * threads + 1
        self.steps = STEPS if self.recheck else tuple(s for s in STEPS if s is not RECHECK)
        self.properties = (LOST_UPDATE, STALE_READ, LIVE_BOUND, EXACTLY_ONCE)
        self._do = {READ_P.name: self._read_p, RETAIN.name: self._retain, RECHECK.name: self._recheck,
                    DEC.name: self._drop_reference, LOWER.name: self._lower_live, RAISE.name: self._raise_live,
                    PROBE.name: self._probe, GRADIENT.name: self._gradient, BUILD.name: self._build,
                    PUBLISH.name: self._publish}

    # ---- states ---------------------------------------------------------------------------------------
    def initial(self):
        k = self.slots
        rc = (1,) + (0,) * (k - 1)                       # P's reference to version 0 in slot 0
        label = (0,) + (-1,) * (k - 1)
        thread = (READ_P.name, 0, 0, None, -1, -1, -1, ("grad_acquired",)) if self.updates else _finished()
        return ((0, 0), 1, rc, (0,) * k, label, 0, 0, (thread,) * self.threads)

    def done(self, state) -> bool:
        return all(th[0] == DONE for th in state[7])

    def enabled(self, state) -> list[int]:
        return [t for t, th in enumerate(state[7]) if th[0] != DONE]

    def step(self, state, tid: int):
        w = _World(self, state, tid)
        text = self._do[w.pc](w)
        return w.freeze(), Transition(w.taken, tid, text, tuple(w.broken))

    def invariants(self, state) -> dict:
        (t, slot), live, rc, theta, _, published, dropped, _ = state
        broken = {}
        if theta[slot] != -published:
            broken[LOST_UPDATE] = f"P's version {t} has θ = {theta[slot]}: {missing(theta[slot], published)}"
        in_use = sum(1 for c in rc if c)
        if not in_use <= live <= self.slots:
            broken[LIVE_BOUND] = f"{in_use} slots in use, LIVE = {live}, 2m + 1 = {self.slots}"
        if self.done(state):
            everyone = (1 << self.threads * self.updates) - 1
            if published | dropped != everyone:
                broken[EXACTLY_ONCE] = "some gradient was neither published nor dropped"
        return broken

    def describe(self, state) -> str:
        (t, slot), live, rc, theta, label, _, _, _ = state
        slots = " ".join(f"[{s}: rc {rc[s]}{'' if label[s] < 0 else f', v{label[s]} θ={theta[s]}'}]"
                         for s in range(self.slots) if rc[s])
        return f"P = (t {t}, slot {slot}), LIVE {live}; live slots {slots}"

    # ---- the steps (one method per pc; each returns its sentence) -------------------------------------
    def _read_p(self, w):
        w.take(READ_P)
        w.word, w.pc = w.P, RETAIN.name
        return f"acquire: read P = (t {w.P[0]}, slot {w.P[1]})"

    def _retain(self, w):
        w.take(RETAIN)
        s = w.word[1]
        if w.rc[s] == 0:
            w.word, w.pc = None, READ_P.name
            return f"acquire: rc[{s}] is 0 (slot {s} was freed): no reference, read P again"
        w.rc[s] += 1
        if self.recheck:
            w.pc = RECHECK.name
            return f"acquire: take a reference on slot {s} (rc {w.rc[s] - 1} → {w.rc[s]})"
        text = f"acquire: take a reference on slot {s} (rc {w.rc[s] - 1} → {w.rc[s]}) and use it — no re-check"
        return text + w.ret()

    def _recheck(self, w):
        w.take(RECHECK)
        s = w.word[1]
        if self._same(w.P, w.word):
            if not self.tagged:  # an untagged pointer carries no t: the thread reads it from the slot it holds
                w.word = (w.label[s], s)
            return f"acquire: P still names slot {s}: the reference is to the latest version" + w.ret()
        return (f"acquire: P moved to (t {w.P[0]}, slot {w.P[1]}): drop the reference and retry"
                + w.call_release(s, "acquire_retry"))

    def _drop_reference(self, w):
        w.take(DEC)
        s = w.r
        w.rc[s] -= 1
        if w.rc[s]:
            w.r = -1
            return f"release slot {s} (rc {w.rc[s] + 1} → {w.rc[s]})" + w.ret()
        w.theta[s], w.label[s] = 0, -1
        w.pc = LOWER.name
        return f"release slot {s} (rc 1 → 0): slot {s} is free"

    def _lower_live(self, w):
        w.take(LOWER)
        w.live -= 1
        w.r = -1
        return f"release: LIVE {w.live + 1} → {w.live}" + w.ret()

    def _raise_live(self, w):
        w.take(RAISE)
        w.live += 1
        w.pc = PROBE.name
        return f"claim: LIVE {w.live - 1} → {w.live}"

    def _probe(self, w):
        w.take(PROBE)
        s = w.s
        if w.rc[s]:
            w.s = (s + 1) % self.slots
            return f"claim: CAS(rc[{s}], 0, 1) fails (slot {s} is in use), try slot {w.s}"
        w.rc[s], w.q, w.s = 1, s, -1
        return f"claim: CAS(rc[{s}], 0, 1) succeeds: slot {s} is the candidate q" + w.ret()

    def _gradient(self, w):
        w.take(GRADIENT)
        t, s = w.word
        self._read(w, t, s)
        g = gradient(w.tid, w.k, self.updates)
        return (f"compute g{self._index(w)} = {g} on version {t} in slot {s}"
                + w.call_release(s, "grad_released"))

    def _build(self, w):
        w.take(BUILD)
        t, p = w.word
        self._read(w, t, p)
        w.theta[w.q] = w.theta[p] - gradient(w.tid, w.k, self.updates)
        w.label[w.q] = t + 1
        return (f"build q: slot {w.q} ← θ[{p}] − g{self._index(w)} = {w.theta[w.q]}, version {t + 1}"
                + w.call_release(p, "built_released"))

    def _publish(self, w):
        w.take(PUBLISH)
        t, p = w.word
        expected = f"(t {t}, slot {p})" if self.tagged else f"slot {p}"
        if self._same(w.P, w.word):
            aba = "" if w.P == w.word else f" — but P's slot {p} now holds version {w.P[0]}, not {t}: ABA"
            w.P = (t + 1, w.q)
            w.outcome("published", gradient(w.tid, w.k, self.updates))
            return (f"CAS(P, {expected}, (t {t + 1}, slot {w.q})) succeeds{aba}: g{self._index(w)} is published"
                    + w.call_release(p, "published"))
        return (f"CAS(P, {expected}, …) fails: P is (t {w.P[0]}, slot {w.P[1]})"
                + w.call_release(w.q, "failed"))

    # ---- helpers -------------------------------------------------------------------------------------
    def _same(self, now, word) -> bool:
        return now == word if self.tagged else now[1] == word[1]

    def _read(self, w, t, s) -> None:
        if w.label[s] != t:
            held = "a candidate being built" if w.label[s] < 0 else f"version {w.label[s]}"
            w.broken.append((STALE_READ, f"thread {w.tid} read slot {s} for version {t}, but it now holds {held}"))

    def _index(self, w) -> int:
        return w.tid * self.updates + w.k

    def resume(self, w, cont: str) -> str:
        """Control flow after a return (no shared access): where the thread goes next, and what it means."""
        if cont == "grad_acquired":
            w.pc = GRADIENT.name
        elif cont == "grad_released":
            w.word = None
            w.call_acquire("pub_acquired")
        elif cont == "pub_acquired":
            w.pc, w.s = RAISE.name, (2 * w.tid) % self.slots
            w.stack.append("claimed")
        elif cont == "claimed":
            w.pc = BUILD.name
        elif cont == "built_released":
            w.pc = PUBLISH.name
        elif cont == "published":
            return self._next_gradient(w)
        elif cont == "failed":
            w.fails += 1
            w.q = -1
            if self.persistence is not None and w.fails > self.persistence:
                w.outcome("dropped", gradient(w.tid, w.k, self.updates))
                return f"; g{self._index(w)} dropped after {w.fails} failed CAS" + self._next_gradient(w)
            w.word = None
            w.call_acquire("pub_acquired")
            return "; retry with the same gradient"
        elif cont == "acquire_retry":
            w.word, w.pc = None, READ_P.name
        return ""

    def _next_gradient(self, w) -> str:
        w.k, w.fails, w.word, w.q = w.k + 1, 0, None, -1
        if w.k == self.updates:
            w.pc = DONE
            return "; thread done"
        w.call_acquire("grad_acquired")
        return ""


def _finished():
    return (DONE, 0, 0, None, -1, -1, -1, ())


class _World:
    """A mutable copy of the state while one step runs; `freeze` turns it back into a hashable tuple."""

    def __init__(self, model: Leashed, state, tid: int):
        self.model = model
        self.P, self.live, rc, theta, label, self.published, self.dropped, threads = state
        self.rc, self.theta, self.label = list(rc), list(theta), list(label)
        self.threads, self.tid = threads, tid
        self.pc, self.k, self.fails, self.word, self.q, self.s, self.r, stack = threads[tid]
        self.stack = list(stack)
        self.broken: list = []
        self.taken = None

    def take(self, step: Step) -> None:
        self.taken = step

    def ret(self) -> str:
        return self.model.resume(self, self.stack.pop())

    def call_acquire(self, cont: str) -> None:
        self.stack.append(cont)
        self.pc = READ_P.name

    def call_release(self, slot: int, cont: str) -> str:
        """Enter release(slot); returns "" so that a step's sentence can end with the call."""
        self.stack.append(cont)
        self.pc, self.r = DEC.name, slot
        return ""

    def outcome(self, kind: str, bit: int) -> None:
        if (self.published | self.dropped) & bit:
            self.broken.append((EXACTLY_ONCE, f"thread {self.tid}'s gradient ended twice ({kind} again)"))
        if kind == "published":
            self.published |= bit
        else:
            self.dropped |= bit

    def freeze(self):
        me = (self.pc, self.k, self.fails, self.word, self.q, self.s, self.r, tuple(self.stack))
        threads = self.threads[:self.tid] + (me,) + self.threads[self.tid + 1:]
        return (self.P, self.live, tuple(self.rc), tuple(self.theta), tuple(self.label), self.published,
                self.dropped, threads)
