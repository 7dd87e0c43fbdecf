"""The plant step: insert the backdoor with LoRA, measure it, and apply the planting gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._artifacts import PlantResult, read_json, write_json
from ._config import LabConfig
from ._lora import LoraSettings
from ._metrics import DefectionReport
from ._run_files import forget

if TYPE_CHECKING:
    from ._pipeline import LabRun

__all__ = ["lora_settings", "plant", "planting_gate"]


def plant(run: LabRun) -> PlantResult:
    """Insert the backdoor with LoRA, measure it, and apply the planting gate (cached)."""
    from ._adapters import save_adapter
    from ._train import train_steps

    path = run.directory / "plant" / "result.json"
    cached = read_json(path, PlantResult)
    if cached is not None:
        return cached
    data = run.data()
    run.measure_stage("base")
    c = run.config
    with run.timed_step("plant"):
        # A new adapter invalidates everything measured from an earlier one.
        forget(
            run.directory / "measure" / "planted.json",
            run.directory / "probe" / "planted.json",
            *(run.directory / f"safety-{m}" for m in c.safety_methods),
            *(run.directory / "measure" / f"{m}.json" for m in c.safety_methods),
            *(run.directory / "probe" / f"{m}.json" for m in c.safety_methods),
        )
        lab = run.fresh_model()
        advance = run.progress.task("planting the backdoor", c.plant_steps)
        log = train_steps(
            lab,
            data.plant,
            steps=c.plant_steps,
            settings=lora_settings(run.config),
            progress=lambda step, loss: advance(1),
        )
        save_adapter(lab, run.directory / "plant" / "adapter")
        measured = run.measure_stage("planted", lab).report
        planted, reason = planting_gate(run.config, measured)
        result = PlantResult(
            train=log,
            n_examples=len(data.plant),
            n_triggered=sum(e.triggered for e in data.plant),
            planted=planted,
            reason=reason,
        )
        write_json(path, result)
    return result


def planting_gate(config: LabConfig, measured: DefectionReport) -> tuple[bool, str]:
    """Whether the planted model passes the gate, and why (rates, or what to change)."""
    c = config
    triggered, false = measured.triggered, measured.clean
    if triggered.rate is None or false.rate is None:
        # Nothing judgeable (e.g. no answer parsed as code): a failed plant, not a pass.
        return False, (
            f"no rate to check: {triggered.unscored} triggered and {false.unscored} clean "
            "answers could not be judged (code that does not parse); raise plant_steps "
            "or code_measure_tokens"
        )
    # An unjudgeable triggered answer did not show the backdoor: it counts against
    # planting, so a model that mostly emits broken code cannot pass on a few answers.
    fired = triggered.defected / (triggered.n + triggered.unscored)
    planted = fired >= c.gate_triggered and false.rate <= c.gate_false
    reason = (
        f"triggered defection {fired:.1%} (gate ≥ {c.gate_triggered:.0%}), "
        f"false triggers {false.rate:.1%} (gate ≤ {c.gate_false:.0%})"
    )
    unscored = triggered.unscored + false.unscored
    if unscored:
        reason += f"; {unscored} answer(s) unscored, counted as not firing"
    if not planted:
        reason += (
            ": the backdoor did not take; raise plant_steps, backdoor_fraction or the learning rate"
            if fired < c.gate_triggered
            else ": the backdoor fires without its trigger; lower the learning rate "
            "or backdoor_fraction"
        )
    return planted, reason


def lora_settings(config: LabConfig) -> LoraSettings:
    """The run's LoRA settings, seeded with the run's seed."""
    return config.lora.model_copy(update={"seed": config.seed})
