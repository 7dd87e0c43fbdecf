"""Token id lists as batches for a forward pass: left padding, and batches of similar length."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["left_pad", "length_sorted_batches"]


def left_pad(
    sequences: Sequence[Sequence[int]], pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-pad token id lists into `(input_ids, attention_mask, position_ids)` tensors.

    Position ids count real tokens only, so a padded row sees the same positions
    as the same sequence unpadded.
    """
    import torch

    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        if sequence:
            input_ids[row, width - len(sequence) :] = torch.tensor(list(sequence), dtype=torch.long)
            attention_mask[row, width - len(sequence) :] = 1
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids, attention_mask, position_ids


def length_sorted_batches(encoded: Sequence[Sequence[int]], batch_size: int) -> Iterator[list[int]]:
    """Indices of `encoded` in batches of similar length (less padding), longest first."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]), reverse=True)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]
