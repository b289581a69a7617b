"""The app's kernel warm-up: one kernel at a time, Leashed-SGD's first, and a run waits only for its own.

The subprocess that really compiles is replaced by its outcome (the cache already holds the kernel), so the
test checks the order and the states the learner sees, not numba; test_first_start.py compiles for real.
"""
import asyncio
import re

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


@sync
async def test_compiling_counts_seconds_against_this_machines_last_compile(monkeypatch, tmp_path):
    """The status said "about 18 s each, once" — a promise that a loaded machine broke (31 s; issue 16 item 17).
    Now it counts the seconds of the kernel compiling and shows its last compile on this machine. The compile
    subprocess is a stand-in that takes 4.5 s (its protocol: one line per kernel done)."""
    import sys

    import teach_sgd.tui.app as app_module
    from teach_sgd.engine import compile_times
    from teach_sgd.tui.widgets.kernel_status import KernelStatus

    monkeypatch.setattr(compile_times, "_file", lambda: tmp_path / "compile_seconds.json")
    compile_times.remember("seq", "mlp", 7.2)
    monkeypatch.setattr(warm, "kernels_loaded", lambda kernels=warm.AT_START: False)
    monkeypatch.setattr(warm, "kernels_cached", lambda kernels=warm.AT_START: False)
    monkeypatch.setattr(warm, "warm_in_process", lambda kernels: 0.0)
    monkeypatch.setattr(app_module, "module_argv", lambda *a: [
        sys.executable, "-c", "import time; time.sleep(3); print('1/2 lock mlp 3s', flush=True); time.sleep(1.5);"
                              "print('2/2 seq mlp 4.5s', flush=True)"])
    app = TeachSGDApp(lessons=[], export_dir=tmp_path, warm_kernels=False)
    async with app.run_test():
        status = app.screen.query_one(KernelStatus)
        task = asyncio.create_task(app.ensure_kernels([("seq", "mlp"), ("lock", "mlp")]))
        shown = set()
        while not task.done():
            shown.add(str(status.render()))
            await asyncio.sleep(0.05)
        assert await task
    seen = "\n".join(sorted(shown))
    assert "about" not in seen
    # in the order compiled (sorted): LOCK's never compiled here, then SEQ's, which took 7.2 s last time
    lock = set(re.findall(r"1/2 lock mlp: (\d+) s \(the first compile on this machine\)", seen))
    assert len(lock) >= 2  # the seconds count (3 s of compiling, however late the UI looked)
    assert re.search(r"2/2 seq mlp: \d+ s \(last compile here: 7 s\)", seen) and "1/2 seq" not in seen


@sync
async def test_a_kernel_to_compile_waits_while_a_run_is_live(monkeypatch, tmp_path):
    """A compile takes a core from the run's workers, which yield to everything: the warm-up compiles its next
    kernel only once no run is live. The run is real; the compile subprocess is a stand-in that reports its
    kernels done at once."""
    import sys

    import teach_sgd.tui.app as app_module
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.runner import WORKER_NICE, Runner

    loaded, compiles = [], []
    monkeypatch.setattr(warm, "kernels_loaded", lambda kernels=warm.AT_START: set(kernels) <= set(loaded))
    monkeypatch.setattr(warm, "kernels_cached", lambda kernels=warm.AT_START: set(kernels) <= set(loaded))
    monkeypatch.setattr(warm, "warm_in_process", lambda kernels: loaded.extend(kernels) or 0.0)

    def compile_now(*argv):
        compiles.append(runner.done)
        return [sys.executable, "-c", f"print('\\n'.join(['k'] * {len(argv) - 1}), flush=True)"]

    monkeypatch.setattr(app_module, "module_argv", compile_now)
    runner = Runner(RunConfig(algo="seq", threads=1, dataset="synthetic", updates=None, seconds=1.5), WORKER_NICE)
    app = TeachSGDApp(lessons=[], export_dir=tmp_path)
    app.register_runner(runner.start())
    async with app.run_test():
        await until(lambda: app.kernel_state == "waiting" or runner.done)
        if not runner.done:  # (a machine so slow that the run ended first would skip this look)
            from teach_sgd.tui.widgets.kernel_status import KernelStatus
            await asyncio.sleep(0.1)
            shown = str(app.screen.query_one(KernelStatus).render())
            assert f"⏸ {len(warm.AT_START)} more kernels compile when no run is going (a compile would slow the run)" \
                in shown
        await until(lambda: app.kernel_state == "ready", timeout=20)
    assert runner.done and compiles == [True] * len(warm.AT_START), "no compile may start while the run is live"


@sync
async def test_a_run_never_started_does_not_hold_the_warm_up_forever(monkeypatch, tmp_path):
    """A Runner built and then replaced before it started (Compare's B, one after the other) is not live: the
    warm-up goes on. A screen building its runs (runs_wanted) holds it."""
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.runner import WORKER_NICE, Runner

    loaded: list = []
    monkeypatch.setattr(warm, "kernels_loaded", lambda kernels=warm.AT_START: set(kernels) <= set(loaded))
    monkeypatch.setattr(warm, "kernels_cached", lambda kernels=warm.AT_START: False)
    monkeypatch.setattr(warm, "warm_in_process", lambda kernels: loaded.extend(kernels) or 0.0)
    import sys

    import teach_sgd.tui.app as app_module
    monkeypatch.setattr(app_module, "module_argv", lambda *argv: [
        sys.executable, "-c", f"print('\\n'.join(['k'] * {len(argv) - 1}), flush=True)"])
    app = TeachSGDApp(lessons=[], export_dir=tmp_path, warm_kernels=False)
    app.register_runner(Runner(RunConfig(algo="seq", threads=1, dataset="synthetic", updates=50), WORKER_NICE))
    async with app.run_test():
        with app.runs_wanted():
            app.prepare_kernels()
            await asyncio.sleep(1.0)
            assert loaded == [], "a screen building its runs holds the warm-up"
        await until(lambda: app.kernel_state == "ready", timeout=20)
    assert loaded == list(warm.AT_START)
