"""Parameter versions for Leashed-SGD: a preallocated slab with reference counts.

This module is memory reclamation only; engine/leashed.py is the algorithm that uses it.

The slab holds K = 2m + 1 parameter vectors (`slab[K, D]`) and one reference count per slot (`rc[K]`). The
shared pointer P (control[CLOCK]) is one 64-bit word that packs (t, slot): the version's sequence number t
in the high bits, its slot in the low SLOT_BITS bits.

Reference counting. A slot is *free* iff rc == 0. P itself owns one reference to the latest version. A
thread owns one reference while it reads a version, and one on the candidate it is building. So at any
instant: rc[latest] ≥ 1, and each thread holds at most two references (in step 2 of the worker it reads p
and builds q; in step 1 it holds only p). Hence at most 2m + 1 slots are live, and K = 2m + 1 slots always
leave a free one for a thread that needs a candidate.

  acquire   read P, then take a reference with a CAS that never resurrects a free slot (rc 0 stays 0),
            then read P again: if P still holds the same packed word, the reference is to the latest
            version; otherwise drop it and retry. (This is the paper's "increment, then check the version
            is not stale" step, with the check done on the pointer.)
  release   drop a reference; whoever takes rc from 1 to 0 has freed the slot.
  claim     find a free slot and take it with CAS(rc, 0 → 1): the new candidate's building reference.

ABA safety. A CAS on P could wrongly succeed if P went from version A to B and then back to "A" while a
thread held A's old address. Here P is never a bare slot index: it is (t, slot), and published sequence
numbers strictly increase (a publish CASes P from (t, p) to (t + 1, q); only the thread whose CAS found
(t, p) can install t + 1). So no packed word is ever published twice, even when a slot is reused for a
later version, and CAS(P, (t, p), new) succeeds only if (t, p) is still the latest version. The same fact
makes `acquire` sound: P equal to the word read before taking the reference means P held that word
throughout, so P's own reference kept the slot from being freed and reused in between.
(test_versions.py replays the ABA interleaving by hand and shows the tagged CAS failing.)

The live count. LIVE (control) is raised *before* a free slot is taken and lowered *after* a slot is
freed, so at every instant  true live slots ≤ LIVE ≤ 2m + 1  (a thread between "raise" and "take", or
between "free" and "lower", is counted as holding the slot, and holds at most two either way). PEAK is
the largest LIVE ever, so it bounds the true peak from above and still stays within 2m + 1.
"""
from numba import njit

from teach_sgd.engine import atomics
from teach_sgd.engine.control import stopped
from teach_sgd.engine.layout import ALLOCATED, CLOCK, LIVE, PEAK, SLOT_BITS, SLOT_MASK

NONE = -1  # returned by acquire/claim when the run was stopped while they waited


@njit(nogil=True, cache=True)
def pack(t, slot):
    return (t << SLOT_BITS) | slot


@njit(nogil=True, cache=True)
def slot_of(word):
    return word & SLOT_MASK


@njit(nogil=True, cache=True)
def seq_of(word):
    return word >> SLOT_BITS


@njit(nogil=True, cache=True)
def _retain_live(rc, s):
    """Take a reference on a slot that is live (rc > 0); False if it was free."""
    while True:
        held = atomics.load(rc, s)
        if held == 0:
            return False
        if atomics.cas(rc, s, held, held + 1) == held:
            return True


@njit(nogil=True, cache=True)
def acquire(control, rc):
    """A reference to the latest version; returns P's packed word (t, slot), or NONE if stopped."""
    while not stopped(control):
        word = atomics.load(control, CLOCK)
        s = slot_of(word)
        if _retain_live(rc, s):
            if atomics.load(control, CLOCK) == word:
                return word
            release(control, rc, s)
    return NONE


@njit(nogil=True, cache=True)
def release(control, rc, s):
    """Drop one reference to slot s; the last one frees it."""
    if atomics.fetch_add(rc, s, -1) == 1:
        atomics.fetch_add(control, LIVE, -1)


@njit(nogil=True, cache=True)
def claim(control, rc, first):
    """Allocate a candidate: a free slot, returned with one reference (ours). NONE if stopped.
    The search starts at slot `first` (< K; each thread its own) so threads rarely race for one slot."""
    live = atomics.fetch_add(control, LIVE, 1) + 1
    while True:
        peak = atomics.load(control, PEAK)
        if live <= peak or atomics.cas(control, PEAK, peak, live) == peak:
            break
    k = rc.shape[0]
    s = first
    while True:
        if atomics.load(rc, s) == 0 and atomics.cas(rc, s, 0, 1) == 0:
            atomics.fetch_add(control, ALLOCATED, 1)
            return s
        s = (s + 1) % k
        if s == first and stopped(control):
            atomics.fetch_add(control, LIVE, -1)
            return NONE


@njit(nogil=True, cache=True)
def publish(control, expected, t_new, slot):
    """CAS(P, expected, (t_new, slot)). On success P owns the reference the candidate was claimed with."""
    return atomics.cas(control, CLOCK, expected, pack(t_new, slot)) == expected


@njit(nogil=True, cache=True)
def copy_latest(control, slab, out):
    """Copy the latest version's θ into `out` as a reader outside the protocol that takes no reference (a stopped
    run's result, while workers that have not seen the stop yet may still publish: Runner.end_stopped). P is
    loaded with acquire before the copy and again after it, behind an acquire fence that keeps the copy's loads
    between the two. The same packed word both times means no publish happened in between (no word is ever
    published twice, see ABA above), so P's own reference kept the slot from being freed and reused, and a
    published version is never written: the copy is whole. Returns False when a publish came in between (copy
    again)."""
    word = atomics.load(control, CLOCK)
    out[:] = slab[slot_of(word)]
    atomics.fence_acquire()
    return atomics.load(control, CLOCK) == word
