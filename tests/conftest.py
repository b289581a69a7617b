import pytest


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels():
    """Compile (or load) every kernel once, before any test starts a clock."""
    from teach_sgd.engine.runner import warm_up

    warm_up()
