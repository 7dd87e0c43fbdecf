"""Fine-tune a `LabModel` on prompt → completion pairs: LoRA (default) or full, on CPU.

One function, `train_steps`, serves both lab phases: planting the backdoor and
the safety training that tries to remove it. The loss covers completion tokens
only; the prompt is rendered with the same chat template used at evaluation
(`format_prompt`). Adapters are saved and loaded so phases can resume: plant,
`save_adapter`; later `load_adapter` on a fresh base model and keep training the
same adapter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from tripwire._errors import ConfigError

from ._lora import LoraSettings, attach_lora, is_peft_model
from ._model import LabModel, eval_mode, require_lab_deps
from ._tokenize import IGNORE_INDEX, Example, TokenizedExample, tokenize_examples

if TYPE_CHECKING:
    import torch

__all__ = [
    "TrainLog",
    "timed_evaluation",
    "train_steps",
]


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
