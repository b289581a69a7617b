"""The app's kernel warm-up: one kernel at a time, Leashed-SGD's first, and a run waits only for its own.

The subprocess that really compiles is replaced by its outcome (the cache already holds the kernel), so the
test checks the order and the states the learner sees, not numba; test_first_start.py compiles for real.
"""
from tui_helpers import sync, until

from teach_sgd.tui import warm
from teach_sgd.tui.app import TeachSGDApp


@sync
async def test_kernels_load_one_at_a_time_leashed_first_and_end_ready(monkeypatch, tmp_path):
    loaded: list = []

    def load(kernels):
        loaded.extend(kernels)
        return 0.0

    monkeypatch.setattr(warm, "kernels_loaded", lambda kernels=warm.AT_START: set(kernels) <= set(loaded))
    monkeypatch.setattr(warm, "kernels_cached", lambda kernels=warm.AT_START: True)
    monkeypatch.setattr(warm, "warm_in_process", load)
    app = TeachSGDApp(lessons=[], export_dir=tmp_path)
    async with app.run_test() as pilot:
        await until(lambda: app.kernel_state == "ready")
        assert loaded == list(warm.AT_START) and loaded[0] == ("leashed", "mlp")
        # a CNN run later asks for its own kernel, and only that one is loaded
        assert await app.ensure_kernels([("hogwild", "cnn")])
        assert loaded[-1] == ("hogwild", "cnn") and app.kernel_state == "ready"
