"""Prompt → completion examples as token ids, with the loss on completion tokens only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tripwire._errors import ConfigError, ModelError

from ._model import LabModel, encode, format_prompt

__all__ = [
    "IGNORE_INDEX",
    "Example",
    "PromptCompletion",
    "TokenizedExample",
    "tokenize_examples",
]

IGNORE_INDEX = -100
"""Label of tokens that carry no loss (prompt and padding)."""


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
