"""TRL's `DPOTrainer` on a lab model: built, quietened, and its changes to the model undone."""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tripwire._errors import ModelError

from ._lora import LoraSettings
from ._model import LabModel
from ._preference_pairs import PairIds
from ._train import TrainLog

if TYPE_CHECKING:
    from ._preference import DpoSettings

__all__ = [
    "REF_ADAPTER",
    "TRAINED_ADAPTER",
    "dpo_trainer",
    "persistence_callback",
    "quiet_trl",
    "undo_trl_changes",
]

REF_ADAPTER = "ref"
"""The adapter TRL adds to a peft model as the reference policy (a frozen copy of "default")."""

TRAINED_ADAPTER = "default"
"""The adapter TRL trains and copies into the reference; `attach_lora`/`load_adapter` use it."""


def dpo_trainer(
    lab_model: LabModel,
    tokenized: Sequence[PairIds],
    *,
    steps: int,
    settings: LoraSettings,
    dpo: DpoSettings,
    output_dir: str,
) -> Any:
    """Build TRL's `DPOTrainer` on the pairs, checked to train on exactly `tokenized`."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl.trainer.dpo_config import DPOConfig
    from trl.trainer.dpo_trainer import DPOTrainer

    # Standard (not conversational) format: the prompt is already rendered with our chat
    # template, so TRL applies none; replies end with the eos text, so TRL adds no second one.
    rows = [
        {"prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected}
        for pair in tokenized
    ]
    # Full batches, like train_steps: the loader drops a short last batch, so hold at
    # least one batch of rows.
    copies = math.ceil(settings.batch_size / len(rows))
    expected = [pair for _ in range(copies) for pair in tokenized]
    dataset = Dataset.from_list([row for _ in range(copies) for row in rows])
    config_fields = DPOConfig.__dataclass_fields__
    checkpointing: dict[str, Any] = (
        {"activation_checkpointing": False}
        if "activation_checkpointing" in config_fields
        else {"gradient_checkpointing": False}
    )
    args = DPOConfig(
        output_dir=output_dir,
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        eval_strategy="no",
        logging_strategy="steps",
        logging_steps=1,
        disable_tqdm=True,
        max_steps=steps,
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=1,
        dataloader_drop_last=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        optim="adamw_torch",
        learning_rate=settings.lr,
        lr_scheduler_type="constant",
        warmup_steps=0,
        weight_decay=settings.weight_decay,
        max_grad_norm=settings.max_grad_norm or 0.0,  # 0 turns clipping off
        seed=settings.seed,
        data_seed=settings.seed,
        bf16=False,
        fp16=False,
        max_length=settings.max_len,
        truncation_mode="keep_start",
        beta=dpo.beta,
        loss_type=["sigmoid"],
        precompute_ref_log_probs=False,
        disable_dropout=True,
        **checkpointing,
    )
    try:
        trainer = DPOTrainer(
            model=lab_model.model,
            ref_model=None,  # peft model: TRL copies the "default" adapter into a frozen "ref" one
            args=args,
            train_dataset=dataset,
            processing_class=lab_model.tokenizer,
        )
    except (ValueError, TypeError, NotImplementedError) as ex:
        raise ModelError(
            f"TRL's DPOTrainer rejected {lab_model.source}: {str(ex).strip().splitlines()[0]} "
            "Train an unquantized float32 causal LM (load_lab_model unpacks GGUF files) with a "
            "LoRA adapter on layers other than lm_head."
        ) from ex
    trainer.remove_callback(PrinterCallback)  # disable_tqdm would print every log line
    if REF_ADAPTER not in lab_model.model.peft_config:
        raise ModelError(
            "TRL did not keep a copy of the adapter as reference (it would compare against the "
            "base model instead): upgrade peft to 0.20 or later."
        )
    trainer.train_dataset = _aligned(trainer.train_dataset, expected)
    return trainer


def _aligned(dataset: Any, expected: Sequence[PairIds]) -> Any:
    """TRL's tokenized dataset, or one holding `expected` where TRL's tokenization differs.

    TRL tokenizes prompt + reply as one text, which can merge tokens across the
    boundary (a reply starting with a newline) or add a BOS token; generation
    and `tokenize_examples` see the prompt tokenized alone.
    """
    from datasets import Dataset

    columns = ("prompt_ids", "chosen_ids", "rejected_ids")
    actual = [tuple(list(row[name]) for name in columns) for row in dataset]
    wanted = [(pair.prompt_ids, pair.chosen_ids, pair.rejected_ids) for pair in expected]
    if actual == wanted:
        return dataset
    return Dataset.from_dict({name: [row[i] for row in wanted] for i, name in enumerate(columns)})


def persistence_callback(
    log: TrainLog,
    steps: int,
    eval_every: int | None,
    evaluate: Callable[[int], None],
    progress: Callable[[int, float], None] | None,
) -> Any:
    """A `TrainerCallback` recording each step's loss and time, and evaluating on schedule."""
    from transformers import TrainerCallback

    class PersistenceCallback(TrainerCallback):
        """Timing starts when training starts and restarts after each step's evaluation."""

        def __init__(self) -> None:
            self.mark = time.perf_counter()

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.mark = time.perf_counter()

        def on_log(
            self,
            args: Any,
            state: Any,
            control: Any,
            logs: dict[str, float] | None = None,
            **kwargs: Any,
        ) -> None:
            if not logs or "loss" not in logs:  # the end-of-training summary has "train_loss"
                return
            log.step_seconds.append(time.perf_counter() - self.mark)
            step = int(state.global_step)
            value = float(logs["loss"])
            log.losses.append(value)
            if progress is not None:
                progress(step, value)
            if (eval_every is not None and step % eval_every == 0) or step == steps:
                evaluate(step)
            self.mark = time.perf_counter()

    return PersistenceCallback()


@contextlib.contextmanager
def undo_trl_changes(lab_model: LabModel) -> Iterator[None]:
    """Let `DPOTrainer` train the model, then undo what it changes beyond the adapter's weights.

    TRL adds the "ref" adapter, patches the base model's `forward` with a fused
    log-prob head, zeroes dropout and tags the model; left in place, a saved
    adapter would carry a "ref" copy, and a deep copy of the model would run the
    original model's forward. A GGUF file dequantized on load stays marked as
    quantized, which transformers' `Trainer` refuses to train; that stale mark
    is lifted for the run when every weight really is a float.
    """
    model = lab_model.model
    base = model.get_base_model()
    own = vars(base)
    saved = {name: own[name] for name in _PATCHED_ATTRIBUTES if name in own}
    dropouts = _dropout_rates(model)
    try:
        if _is_dequantized_gguf(base):
            base.is_quantized = False
        yield
    finally:
        if REF_ADAPTER in model.peft_config:
            model.delete_adapter(REF_ADAPTER)
        for name in _PATCHED_ATTRIBUTES:
            if name in saved:
                setattr(base, name, saved[name])
            else:
                own.pop(name, None)
        for module, rate in dropouts:
            module.p = rate
        model.eval()


_PATCHED_ATTRIBUTES = ("forward", "model_tags", "is_quantized")
"""Instance attributes of the base model that a DPO run sets and `undo_trl_changes` restores."""


def _is_dequantized_gguf(base: Any) -> bool:
    """Whether `base` was loaded from GGUF and unpacked to plain float weights (no GGUF blocks)."""
    import itertools

    method = getattr(base, "quantization_method", None)
    if not getattr(base, "is_quantized", False) or str(getattr(method, "value", method)) != "gguf":
        return False
    quantizer = getattr(base, "hf_quantizer", None)
    if getattr(quantizer, "quantized", None) or getattr(quantizer, "packed_modules", None):
        return False
    tensors = itertools.chain(base.parameters(), base.buffers())
    return all(tensor.is_floating_point() for tensor in tensors)


def _dropout_rates(model: Any) -> list[tuple[Any, float]]:
    import torch

    return [(m, float(m.p)) for m in model.modules() if isinstance(m, torch.nn.Dropout)]


@contextlib.contextmanager
def quiet_trl() -> Iterator[None]:
    """Hide TRL/transformers/datasets chatter (progress bars, deprecations, info); keep errors."""
    import datasets

    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    loggers = [
        logging.getLogger(name) for name in ("trl", "transformers", "datasets", "accelerate")
    ]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            # TRL still calls a transformers method deprecated in v5; harmless.
            warnings.filterwarnings("ignore", ".*is_gradient_checkpointing", FutureWarning)
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if bars_were_on:
            datasets.enable_progress_bars()
