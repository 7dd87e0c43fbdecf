import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark the reference provider's two 35-second conformance checks `slow`."""
    from test_sandbox_conformance import SLOW_ON_LOCAL

    for item in items:
        callspec = getattr(item, "callspec", None)
        if (
            getattr(getattr(item, "module", None), "__name__", "") == "test_sandbox_conformance"
            and callspec is not None
            and callspec.params.get("sandbox_env") == "local"
            and item.originalname in SLOW_ON_LOCAL
        ):
            item.add_marker(pytest.mark.slow)
