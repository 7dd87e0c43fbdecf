"""`tripwire scale …`: write what a run past one machine needs, and check it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from tripwire._catalog import check_size
from tripwire._errors import ConfigError

from ._exit import ExitCode
from ._output import command_line, console

__all__ = ["scale_app"]

scale_app = typer.Typer(
    name="scale",
    help=(
        "Run past one machine: an Inspect eval set over many models, Inspect's "
        "Kubernetes sandbox in place of bwrap, models served by vLLM."
    ),
    no_args_is_help=True,
)


@scale_app.command("plan")
def plan_command(
    models: Annotated[
        list[str],
        typer.Option(
            "--models",
            "-m",
            help="Inspect model, e.g. vllm/meta-llama/Llama-3.1-8B-Instruct; repeatable.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into.")],
    evals: Annotated[
        list[str] | None,
        typer.Option(
            "--evals", help="Evaluation or group (suite, incidents, all); repeatable. Default all."
        ),
    ] = None,
    size: Annotated[str, typer.Option(help="quick or paper (the paper's counts).")] = "quick",
    sandbox: Annotated[
        str, typer.Option(help="bwrap (on the machine running it) or k8s (a pod per sample).")
    ] = "bwrap",
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            "--base-url",
            help="MODEL=URL: the OpenAI-compatible endpoint of a vllm/ or openai-api/ model, "
            "e.g. vllm/org/model=http://vllm:8000/v1; repeatable.",
        ),
    ] = None,
    conditions: Annotated[
        str | None, typer.Option(help="Comma-separated conditions (default: the size's).")
    ] = None,
    samples_per_condition: Annotated[
        int | None, typer.Option(min=1, help="Samples per condition (overrides the size).")
    ] = None,
    max_turns: Annotated[int | None, typer.Option(min=1, help="Model turns per episode.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Samples per task: a smoke test first.")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    retry_attempts: Annotated[
        int, typer.Option(min=0, help="Reruns of a failed task by the eval set.")
    ] = 10,
    retry_on_error: Annotated[
        int, typer.Option(min=0, help="Reruns of a sample that raised an error, in its task.")
    ] = 2,
    max_tasks: Annotated[int | None, typer.Option(min=1, help="Tasks run at once.")] = None,
    max_sandboxes: Annotated[
        int | None, typer.Option(min=1, help="Sandboxes (pods) alive at once.")
    ] = None,
    log_dir: Annotated[str, typer.Option(help="Log directory, relative to --out.")] = "logs",
    image: Annotated[
        str, typer.Option(help="k8s: the pod image built from the generated Dockerfile.")
    ] = "tripwire-sandbox:latest",
    runtime_class: Annotated[
        str, typer.Option(help="k8s: runtime class; CLUSTER_DEFAULT for the cluster's own.")
    ] = "gvisor",
    cpu: Annotated[str, typer.Option(help="k8s: CPU of each pod.")] = "1",
    memory: Annotated[str, typer.Option(help="k8s: memory of each pod.")] = "2Gi",
    allow_domain: Annotated[
        list[str] | None,
        typer.Option("--allow-domain", help="k8s: a domain pods may reach; default none."),
    ] = None,
    network_policy: Annotated[
        bool,
        typer.Option(
            help="k8s: render the chart's Cilium policies (no egress). Turn off only on a "
            "cluster without Cilium whose own policies isolate the pods."
        ),
    ] = True,
) -> None:
    """Write eval_set.py, models.env and a README (and for k8s: values.yaml, Dockerfile)."""
    from tripwire.scale import K8sSandbox, ScalePlan, validate_helm_values, write_plan
    from tripwire.scale._k8s import helm_values

    if sandbox not in ("bwrap", "k8s"):
        raise ConfigError(f"Unknown sandbox {sandbox!r}: choose bwrap or k8s.")
    task_args: dict[str, Any] = {}
    if conditions is not None:
        task_args["conditions"] = conditions
    if samples_per_condition is not None:
        task_args["samples_per_condition"] = samples_per_condition
    if max_turns is not None:
        task_args["max_turns"] = max_turns
    plan = ScalePlan(
        models=tuple(models),
        evals=tuple(evals or ["all"]),
        size=check_size(size),
        sandbox=sandbox,  # type: ignore[arg-type]  # checked above
        task_args=task_args,
        log_dir=log_dir,
        limit=limit,
        epochs=epochs,
        retry_attempts=retry_attempts,
        retry_on_error=retry_on_error,
        max_tasks=max_tasks,
        max_sandboxes=max_sandboxes,
        base_urls=_base_urls(base_url or []),
        k8s=K8sSandbox(
            image=image,
            runtime_class=runtime_class,
            cpu=cpu,
            memory=memory,
            allow_domains=tuple(allow_domain or ()),
            network_policy=network_policy,
        ),
    )
    if sandbox == "k8s":
        helm_values(plan.k8s)  # an impossible network setting fails before any file
    planned = write_plan(plan, out, command_line())
    console.print(
        f"{len(planned.tasks)} tasks x {len(plan.models)} models, sandbox {sandbox}; wrote:",
        soft_wrap=True,
    )
    for path in planned.files:
        console.print(f"  {path}", highlight=False, soft_wrap=True)
    for name, reason in planned.skipped.items():
        console.print(f"left out {name}: {reason}", highlight=False, soft_wrap=True)
    if sandbox == "k8s":
        try:
            problems = validate_helm_values(helm_values(plan.k8s))
        except ConfigError as ex:
            console.print(f"values.yaml not checked: {ex}", highlight=False, soft_wrap=True)
        else:
            _print_check(out / "values.yaml", problems)


@scale_app.command("check")
def check_command(
    values: Annotated[Path, typer.Argument(help="A Helm values file for the k8s sandbox.")],
) -> None:
    """Check a values file against the installed inspect-k8s-sandbox chart's schema."""
    from tripwire.scale import validate_helm_values

    if not values.is_file():
        raise ConfigError(f"{values} does not exist.")
    try:
        loaded = yaml.safe_load(values.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as ex:
        raise ConfigError(f"{values} is not YAML: {ex}") from ex
    if not isinstance(loaded, dict):
        raise ConfigError(f"{values} must be a mapping of Helm values.")
    problems = validate_helm_values(loaded)
    _print_check(values, problems)
    if problems:
        raise typer.Exit(ExitCode.VERDICT_FAILED)


def _print_check(path: Path, problems: list[str]) -> None:
    try:
        chart = f"inspect-k8s-sandbox {version('inspect-k8s-sandbox')}"
    except PackageNotFoundError:
        chart = "inspect-k8s-sandbox"
    if not problems:
        console.print(
            f"{path}: valid for {chart}'s agent-env chart", highlight=False, soft_wrap=True
        )
        return
    console.print(
        f"{path}: {len(problems)} problem(s) for {chart}:", highlight=False, soft_wrap=True
    )
    for problem in problems:
        console.print(f"  {problem}", highlight=False, soft_wrap=True)


def _base_urls(pairs: list[str]) -> dict[str, str]:
    urls = {}
    for pair in pairs:
        model, sep, url = pair.partition("=")
        if not sep or not model or not url:
            raise ConfigError(f"--base-url takes MODEL=URL, not {pair!r}.")
        urls[model] = url
    return urls
