"""Leashed-SGD's version memory (engine/versions.py), driven by hand, one step at a time."""
import numpy as np

from teach_sgd.engine import layout as L
from teach_sgd.engine.versions import NONE, _retain_live, acquire, claim, pack, publish, release, seq_of, slot_of


def fresh(k=5):
    control = np.zeros(L.CONTROL_WORDS, np.int64)
    rc = np.zeros(k, np.int64)
    rc[0] = 1  # P's reference to version 0 in slot 0
    control[L.CLOCK] = pack(0, 0)
    control[L.LIVE] = 1
    control[L.PEAK] = 1
    return control, rc


def publish_next(control, rc, first_slot):
    """One whole successful update by some thread: acquire p, claim q, publish, drop P's old reference."""
    word = acquire(control, rc)
    q = claim(control, rc, first_slot)
    release(control, rc, slot_of(word))  # the reader's reference
    assert publish(control, word, seq_of(word) + 1, q)
    release(control, rc, slot_of(word))  # P's reference to the replaced version
    return q


def test_aba_is_impossible_with_the_tagged_pointer():
    control, rc = fresh()
    # thread A reads version 0 (slot 0) and will try to publish on top of it later
    word_a = acquire(control, rc)
    release(control, rc, slot_of(word_a))
    # meanwhile two updates: version 1 in slot 1, then version 2 in slot 0, reused once version 0 was freed
    assert publish_next(control, rc, 1) == 1
    assert rc[0] == 0
    assert publish_next(control, rc, 0) == 0
    now = int(control[L.CLOCK])
    # the ABA situation: P names the same slot that A saw …
    assert slot_of(now) == slot_of(word_a)
    # … so a CAS on a bare slot index would succeed and lose two updates; the tagged CAS fails
    q = claim(control, rc, 3)
    assert not publish(control, word_a, seq_of(word_a) + 1, q)
    assert int(control[L.CLOCK]) == now
    release(control, rc, q)


def test_a_reference_is_never_taken_on_a_freed_slot():
    # a reader that read P just before the version was replaced and freed must not resurrect the slot
    # (a claimer may be about to take it with CAS(rc, 0 → 1))
    control, rc = fresh()
    assert _retain_live(rc, 0) and rc[0] == 2
    rc[:] = 0
    assert not _retain_live(rc, 0) and rc[0] == 0


def test_acquire_gives_up_when_stopped():
    control, rc = fresh()
    control[L.STOP] = 1
    assert acquire(control, rc) == NONE
    assert rc[0] == 1


def test_claim_takes_only_free_slots_and_live_is_exact_when_quiet():
    control, rc = fresh(k=5)
    taken = [claim(control, rc, 0) for _ in range(4)]
    assert sorted(taken) == [1, 2, 3, 4]
    assert control[L.LIVE] == 5 == np.count_nonzero(rc)
    for s in taken:
        release(control, rc, s)
    assert control[L.LIVE] == 1 == np.count_nonzero(rc)
    assert control[L.PEAK] == 5
    assert control[L.ALLOCATED] == 4


def test_sequence_numbers_increase_and_one_version_remains():
    control, rc = fresh()
    for i in range(1, 50):
        publish_next(control, rc, i % 5)
        assert seq_of(int(control[L.CLOCK])) == i
        assert np.count_nonzero(rc) == 1 == control[L.LIVE]
