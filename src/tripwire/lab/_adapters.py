"""Save and load trained weights with their chat format, so a later phase resumes them."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from tripwire._errors import ConfigError, ModelError

from ._lora import is_peft_model
from ._model import LAB_FILE, LabModel, read_lab_record, require_lab_deps

__all__ = ["load_adapter", "save_adapter"]


def save_adapter(lab_model: LabModel, directory: str | Path) -> Path:
    """Save the trained weights so a later phase can resume from them.

    A LoRA model saves only its adapter (a few MB; reload with `load_adapter` on
    the same base model). A fully fine-tuned model saves the whole model and
    tokenizer (reload with `load_lab_model(directory, system_prompt=...)`). Either
    way the chat template and system prompt are recorded beside the weights: a
    reload uses the recorded template and refuses another system prompt.

    Args:
        lab_model: The trained model.
        directory: Where to write (created if needed).

    Returns:
        The directory.

    Raises:
        ModelError: If writing fails.
    """
    path = Path(directory).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        if is_peft_model(lab_model.model):
            lab_model.model.save_pretrained(path)
            kind = "lora"
        else:
            lab_model.model.save_pretrained(path)
            lab_model.tokenizer.save_pretrained(path)
            kind = "full"
        record = {
            "kind": kind,
            "source": lab_model.source,
            "chat_template": lab_model.chat_template,
            "system_prompt": lab_model.system_prompt,
        }
        (path / LAB_FILE).write_text(json.dumps(record, indent=2) + "\n")
    except OSError as ex:
        raise ModelError(
            f"Could not save the model to {path}: {ex}. Choose a writable directory."
        ) from ex
    return path


def load_adapter(lab_model: LabModel, directory: str | Path, *, trainable: bool = True) -> None:
    """Load a LoRA adapter saved by `save_adapter` onto `lab_model`'s base model, in place.

    Args:
        lab_model: A freshly loaded base model, the one the adapter was trained on.
        directory: The adapter directory.
        trainable: Keep the adapter trainable so `train_steps` continues it.

    Raises:
        ModelError: If the directory holds no adapter, or peft is missing.
        ConfigError: If the model already has an adapter, or the adapter was
            trained with another chat template or system prompt.
    """
    require_lab_deps("peft")
    from peft import PeftModel

    path = Path(directory).expanduser()
    if not (path / "adapter_config.json").is_file():
        hint = (
            " It holds a full model: load it with load_lab_model(directory)."
            if (path / "config.json").is_file()
            else " Pass a directory written by save_adapter."
        )
        raise ModelError(f"No LoRA adapter in {path} (no adapter_config.json).{hint}")
    if is_peft_model(lab_model.model):
        raise ConfigError(
            "The model already has a LoRA adapter: load a fresh base model, then load_adapter()."
        )
    _check_recorded_format(lab_model, path)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*is_gradient_checkpointing", FutureWarning)
            model = PeftModel.from_pretrained(lab_model.model, path, is_trainable=trainable)
    except (OSError, ValueError, RuntimeError, KeyError) as ex:
        raise ModelError(
            f"Could not load the adapter in {path} onto {lab_model.source}: "
            f"{str(ex).strip().splitlines()[0] if str(ex).strip() else type(ex).__name__}. "
            "Load the base model it was trained on."
        ) from ex
    model.eval()
    lab_model.model = model


def _check_recorded_format(lab_model: LabModel, path: Path) -> None:
    record = read_lab_record(path)
    if not record:
        return
    for key in ("chat_template", "system_prompt"):
        if record.get(key) != getattr(lab_model, key):
            raise ConfigError(
                f"The adapter in {path} was trained with another {key.replace('_', ' ')}: "
                f"load the model with the same one, or the backdoor may not fire."
            )
