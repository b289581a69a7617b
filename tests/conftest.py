"""Kernels are compiled only where a test needs them before its clock starts.

A Runner compiles (or loads from numba's disk cache) its own kernel before its clock starts (Runner.start), so
an engine test needs nothing here, and a test that never runs the engine — bad input, lessons, the simulator —
compiles nothing (a cold run of tests/test_bad_input.py takes seconds, not the 150 s of compiling ten kernels).
Two kinds of test do start kernels under a time limit: the app's (a live run waited for with `until`, its
kernels warmed by a background process the tests turn off) and the ones that start a child process with a
timeout (the child loads the kernels from the disk cache this fills). Those get the `kernels` marker, here by
file name so a new app test is covered without remembering it.
"""
import time

import pytest
import textual._wait

from teach_sgd.engine.warmup import warm_up

# Textual's Pilot (press, pause) waits until the app is idle, judged by the process's CPU time against the wall
# clock, for at most 1 s. A live run's workers are GIL-free threads of the same process that never idle, so every
# key pressed during a run waited the full 1 s twice (a key-from-every-focus test: 140 keys, 5 minutes). The
# app is idle when its event-loop thread is: the thread that waits is that thread, so its own CPU time is the
# measure. (A wait for the workers' effects is an explicit `until`, never a Pilot pause.)
textual._wait.process_time = time.thread_time

# the shared Pilot helpers assert too: have pytest explain their failures as it does a test module's
pytest.register_assert_rewrite("tui_helpers")

KERNEL_FILES = ("test_tui*.py", "test_signals.py")


def pytest_configure(config):
    config.addinivalue_line("markers", "kernels: compile (or load) every kernel before the test starts, because "
                                       "it runs kernels under a time limit")


def pytest_collection_modifyitems(items):
    for item in items:
        if any(item.path.match(pattern) for pattern in KERNEL_FILES):
            item.add_marker(pytest.mark.kernels)


@pytest.fixture(autouse=True)
def compiled_kernels(request):
    if request.node.get_closest_marker("kernels"):
        warm_up()  # once per process: pairs already warm are skipped
