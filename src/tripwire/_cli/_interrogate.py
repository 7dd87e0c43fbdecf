"""`--interrogate` and its options, shared by `tripwire eval` and `tripwire run`."""

from __future__ import annotations

import re
from typing import Any

from tripwire._catalog import INTERROGATION_SIZES, Size
from tripwire._errors import ConfigError
from tripwire.interrogate import interrogation_config
from tripwire.models import EMBEDDED_MODELS

from ._prepare import prepare_model

__all__ = ["interrogation_options"]


def interrogation_options(
    enabled: bool,
    size: Size,
    *,
    grader: str | None = None,
    interrogator: str | None = None,
    follow_ups: int | None = None,
    turns: int | None = None,
    controls: float | None = None,
) -> dict[str, Any] | None:
    """The `interrogate` task argument of a run: the size's options, then the flags.

    The grader and interrogator models are checked here, so a bad name fails in one
    line before any eval starts.

    Returns:
        `InterrogationConfig` options, or None when not interrogating.

    Raises:
        ConfigError: If an option is given without `--interrogate`, an option is out
            of range, or a model cannot be used.
    """
    flags = {
        "grader": grader,
        "interrogator": interrogator,
        "follow_ups": follow_ups,
        "turns": turns,
        "controls": controls,
    }
    given = {key: value for key, value in flags.items() if value is not None}
    if not enabled:
        if given:
            names = ", ".join(f"--{_flag(key)}" for key in given)
            raise ConfigError(f"{names} only apply with --interrogate: add it, or drop them.")
        return None
    options = INTERROGATION_SIZES[size] | given
    interrogation_config(options)  # a bad value fails now, naming it
    for role, name in (("grader", grader), ("interrogator", interrogator)):
        if name:
            _check_model(name, _flag(role))
    return options


def _flag(option: str) -> str:
    return {"turns": "interrogation-turns"}.get(option, option.replace("_", "-"))


def _check_model(name: str, flag: str) -> None:
    """Fail now, in one line, if Inspect cannot make `name` (unknown, or no SDK or key)."""
    if name.startswith("tripwire/") and name.removeprefix("tripwire/") in EMBEDDED_MODELS:
        prepare_model(name)  # loading its weights now would hold them twice
        return
    if name.split("/", 1)[0] in _LOCAL_WEIGHTS:
        return  # making one loads its weights: Inspect reports a problem when the eval starts
    from inspect_ai.model import get_model

    try:
        get_model(name)
    except Exception as ex:  # Inspect raises several kinds; each says what is wrong
        raise ConfigError(f"--{flag} {name}: {_one_line(str(ex))}") from None


# Inspect providers whose models load weights (or start a server) when made.
_LOCAL_WEIGHTS = frozenset(
    {"hf", "vllm", "vllm-completions", "sglang", "llama-cpp-python", "transformer_lens", "nnterp"}
)


def _one_line(message: str) -> str:
    plain = re.sub(r"\[/?[a-z ]+\]", "", message).removeprefix("ERROR:")
    return " ".join(plain.split()) or "Inspect cannot use this model."
