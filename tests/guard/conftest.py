import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here so `-m adversarial` selects the red-team cases without a warning.
    config.addinivalue_line("markers", "adversarial: one red-team case for the default guard")
