import pytest

# the shared Pilot helpers assert too: have pytest explain their failures as it does a test module's
pytest.register_assert_rewrite("tui_helpers")


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile (or load) every kernel once, before any test starts a clock."""
    from teach_sgd.engine.warmup import warm_up

    warm_up()
