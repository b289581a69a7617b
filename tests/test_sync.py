"""SYNC (engine/sync.py): one synchronous step is one sequential step on the same mini-batch.

With m threads and batch B, thread j takes rows [j·B/m, (j+1)·B/m) of mini-batch k; the weighted sum of the
m share gradients is the whole batch's mean gradient, so after N steps SYNC's θ equals SEQ's after N steps
on the same batches, up to the order of the float additions.
"""
import numpy as np
import pytest

from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import run
from teach_sgd.errors import ConfigError


def cfg(**kw):
    base = dict(dataset="mnist", batch=16, lr=0.05, seed=3, eval_every_s=0.01)
    base.update(kw)
    return RunConfig(**base)


@pytest.mark.parametrize("threads", [1, 2, 3, 16])
@pytest.mark.parametrize("updates", [1, 40])
def test_sync_step_equals_seq_step_on_the_same_rows(threads, updates):
    seq = run(cfg(algo="seq", threads=1, updates=updates))
    sync = run(cfg(algo="sync", threads=threads, updates=updates, audit=True))
    assert sync.updates == updates and sync.status == "finished"
    moved = np.abs(seq.theta_final - sync.theta_final)
    # the step really moved θ (so agreement is not trivial) …
    assert np.abs(seq.theta_final - run(cfg(algo="seq", threads=1, updates=updates + 1)).theta_final).max() > 1e-4
    # … and both took the same steps: float32 rounding of a differently ordered sum, nothing more
    assert moved.max() < 2e-6 * max(1, updates // 10)
    assert sync.staleness_max == 0 and sync.staleness_hist[0] == updates
    assert sync.lost_update_mass / sync.params < 1e-6  # the audit closes: no update is lost


def test_sync_counts_every_share_and_the_barrier_wait():
    r = run(cfg(algo="sync", threads=4, updates=200))
    assert r.updates == 200
    assert [t.gradients for t in r.threads] == [200] * 4       # every thread computed its share every step
    assert sum(t.updates for t in r.threads) == 200             # one update per step, counted once
    assert all(t.barrier_wait_s > 0 for t in r.threads)         # 4 threads on fewer cores always wait
    assert r.versions.bound == 1                                 # θ only: no private copies


def test_sync_stops_at_once_even_mid_barrier():
    r = run(cfg(algo="sync", threads=8, seconds=0.5, updates=None))
    assert r.status == "finished" and r.updates > 0
    assert r.wall_s < 5


def test_sync_needs_a_row_per_thread():
    with pytest.raises(ConfigError, match="at least"):
        RunConfig.from_mapping({"algo": "sync", "threads": "8", "batch": "4"})
