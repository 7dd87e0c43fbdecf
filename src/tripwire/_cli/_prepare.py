"""Checks and one-time work done before evals start, with clear errors."""

from __future__ import annotations

import shutil

from tripwire._errors import BwrapNotFoundError

from ._output import console

__all__ = ["prepare_model", "require_sandbox"]


def require_sandbox(sandbox: str) -> None:
    """Fail fast, in one line, when the bwrap sandbox is chosen but not installed."""
    if sandbox == "bwrap" and shutil.which("bwrap") is None:
        raise BwrapNotFoundError()


def prepare_model(model: str) -> None:
    """Assemble and verify embedded weights up front, so no eval stalls on it."""
    if model == "tripwire/qwen2.5-coder-0.5b":
        from tripwire.models._weights import qwen_gguf_path

        with console.status("preparing the embedded model (first run assembles 491 MB)"):
            path = qwen_gguf_path()
        console.print(f"embedded model: {path}", highlight=False)
