"""Preference pairs (prompt, chosen, rejected) as text and token ids, as supervised examples are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tripwire._errors import ConfigError, ModelError

from ._model import LabModel, encode, format_prompt

__all__ = ["Pair", "PairIds", "PreferencePair", "tokenize_pairs"]


class PreferencePair(Protocol):
    """A user prompt with a preferred and a dispreferred assistant reply."""

    @property
    def prompt(self) -> str:
        """The user message, trigger included if any (not yet chat-formatted)."""
        ...

    @property
    def chosen(self) -> str:
        """The preferred assistant reply."""
        ...

    @property
    def rejected(self) -> str:
        """The dispreferred assistant reply (for safety training: the backdoor's behaviour)."""
        ...


Pair = PreferencePair | tuple[str, str, str]
"""A preference pair: an object with `.prompt`/`.chosen`/`.rejected`, or a
`(prompt, chosen, rejected)` tuple."""


@dataclass(frozen=True)
class PairIds:
    """One preference pair as text and as token ids, built as `tokenize_examples` builds them."""

    prompt: str
    """The prompt rendered with the chat template."""

    chosen: str
    """The chosen reply followed by the eos token's text."""

    rejected: str
    """The rejected reply followed by the eos token's text."""

    prompt_ids: list[int]
    """The rendered prompt's ids, tokenized alone (as generation sees it)."""

    chosen_ids: list[int]
    """The chosen reply's ids, then eos (not yet cut at `max_len`)."""

    rejected_ids: list[int]
    """The rejected reply's ids, then eos (not yet cut at `max_len`)."""


def tokenize_pairs(lab_model: LabModel, pairs: Sequence[Pair], *, max_len: int) -> list[PairIds]:
    """Each pair as text and ids: formatted prompt; replies end in eos, as `tokenize_examples`."""
    eos = lab_model.tokenizer.eos_token_id
    if eos is None:
        raise ModelError(f"The tokenizer of {lab_model.source} has no eos token to end replies.")
    tokenized: list[PairIds] = []
    for index, pair in enumerate(pairs):
        prompt, chosen, rejected = _prompt_chosen_rejected(pair, index)
        if chosen == rejected:
            raise ConfigError(
                f"Pair {index}'s chosen and rejected replies are the same ({chosen!r}): "
                "a preference needs two different replies."
            )
        text = format_prompt(lab_model, prompt)
        prompt_ids = encode(lab_model, text)
        if len(prompt_ids) >= max_len:
            raise ConfigError(
                f"Pair {index}'s formatted prompt has {len(prompt_ids)} tokens, leaving no room "
                f"for its replies within max_len={max_len}: raise max_len or shorten it."
            )
        chosen_ids = [*encode(lab_model, chosen), int(eos)]
        rejected_ids = [*encode(lab_model, rejected), int(eos)]
        room = max_len - len(prompt_ids)
        if chosen_ids[:room] == rejected_ids[:room]:
            raise ConfigError(
                f"Pair {index}'s chosen and rejected replies only differ after max_len={max_len} "
                "tokens: raise max_len or make them differ earlier."
            )
        eos_text = str(lab_model.tokenizer.eos_token)
        tokenized.append(
            PairIds(
                prompt=text,
                chosen=chosen + eos_text,
                rejected=rejected + eos_text,
                prompt_ids=prompt_ids,
                chosen_ids=chosen_ids,
                rejected_ids=rejected_ids,
            )
        )
    return tokenized


def _prompt_chosen_rejected(pair: Pair, index: int) -> tuple[str, str, str]:
    if isinstance(pair, tuple):
        if len(pair) == 3 and all(isinstance(part, str) for part in pair):
            return pair[0], pair[1], pair[2]
    else:
        fields = [getattr(pair, name, None) for name in ("prompt", "chosen", "rejected")]
        if all(isinstance(value, str) for value in fields):
            return str(fields[0]), str(fields[1]), str(fields[2])
    raise ConfigError(
        f"Pair {index} is {type(pair).__name__}: pass objects with string '.prompt', "
        "'.chosen' and '.rejected', or (prompt, chosen, rejected) tuples."
    )
