import pytest


@pytest.fixture
def log_dir(tmp_path):
    return tmp_path / "logs"
