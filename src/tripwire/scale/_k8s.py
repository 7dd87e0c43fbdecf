"""Inspect's Kubernetes sandbox (`inspect-k8s-sandbox`) for tripwire's tasks.

The k8s sandbox installs one Helm release of its `agent-env` chart per sample, with
the values file it is given as `sandbox=("k8s", "values.yaml")`. Tripwire's samples
carry their scenario files (Inspect copies them into the pod when the sample starts),
so the values only describe the pod: an image with the tools the scenarios use, the
agent's working directory, resources, and the network.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from tripwire._errors import ConfigError
from tripwire.scenarios._service import SERVICE_USER

__all__ = [
    "K8S_PACKAGE",
    "WORKDIR",
    "K8sSandbox",
    "helm_values",
    "sandbox_dockerfile",
    "validate_helm_values",
]

K8S_PACKAGE = "inspect-k8s-sandbox"
"""The PyPI package of Inspect's Kubernetes sandbox provider (`k8s`)."""

WORKDIR = "/home/agent"
"""The agent's working directory, as in tripwire's `bwrap` sandbox."""

# Debian packages the scenarios' tools and detectors run: bash for the agent's tool,
# coreutils/findutils/grep/sed/gawk for its commands and the detectors' scripts,
# procps for `ps`, sqlite3 for the database scenarios, util-linux for `runuser`
# (the k8s sandbox runs `exec(user=...)` through it).
_DEBIAN_PACKAGES = (
    "bash",
    "coreutils",
    "findutils",
    "gawk",
    "grep",
    "procps",
    "sed",
    "sqlite3",
    "util-linux",
)


class K8sSandbox(BaseModel, frozen=True):
    """The pod each sample runs in on the cluster."""

    image: str = "tripwire-sandbox:latest"
    """Image of the agent's container: built from the generated `Dockerfile` and
    pushed where the cluster can pull it."""

    runtime_class: str = "gvisor"
    """Container runtime class (the chart's default, gVisor); `CLUSTER_DEFAULT` leaves
    it unset so the cluster's default runtime is used."""

    cpu: str = "1"
    """CPU request and limit of the agent's container (equal: Guaranteed QoS)."""

    memory: str = "2Gi"
    """Memory request and limit of the agent's container."""

    ephemeral_storage: str = "2Gi"
    """Disk the container may write (its files, /tmp), request and limit."""

    network_policy: bool = True
    """Render the chart's Cilium network policies. With `allow_domains` empty they
    deny all egress, as `bwrap` does; set false only on a cluster without Cilium,
    whose own policies must then keep the pod off the network."""

    allow_domains: tuple[str, ...] = ()
    """Domains the agent may reach (ports 80/443); empty: none."""

    image_pull_secrets: tuple[str, ...] = Field(default=())
    """Names of existing secrets with registry credentials for `image`."""


def helm_values(config: K8sSandbox) -> dict[str, Any]:
    """The `agent-env` Helm values for tripwire's samples.

    The container runs as root, as in Inspect's other sandboxes: the sandbox writes
    each sample's files as the container's user, and the detectors run as root and
    read the oversight service's files as the image's `service` account.
    """
    resources_ = {
        "cpu": config.cpu,
        "memory": config.memory,
        "ephemeral-storage": config.ephemeral_storage,
    }
    values: dict[str, Any] = {
        "networkPolicy": {"enabled": config.network_policy},
        "services": {
            "default": {
                "image": config.image,
                "runtimeClassName": config.runtime_class,
                "command": ["tail", "-f", "/dev/null"],
                "workingDir": WORKDIR,
                "resources": {"requests": dict(resources_), "limits": dict(resources_)},
                "securityContext": {"allowPrivilegeEscalation": False},
            }
        },
    }
    if config.network_policy:
        values["allowDomains"] = list(config.allow_domains)
    elif config.allow_domains:
        raise ConfigError(
            "allow_domains needs the network policy (the chart rejects allowDomains "
            "without it): drop --allow-domain, or keep the network policy on."
        )
    if config.image_pull_secrets:
        values["imagePullSecrets"] = [{"name": name} for name in config.image_pull_secrets]
    return values


def sandbox_dockerfile(base: str = "python:3.12-slim-bookworm") -> str:
    """A Dockerfile for the image `helm_values` names: the scenarios' tools.

    Args:
        base: Base image (Debian, with Python 3 for the agents' scripts).
    """
    packages = " ".join(_DEBIAN_PACKAGES)
    return (
        "# The pod image of tripwire's k8s sandbox: the tools the scenarios use.\n"
        f"FROM {base}\n"
        "RUN apt-get update \\\n"
        f"    && apt-get install -y --no-install-recommends {packages} \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "# The oversight service's account: detectors read its files as this user.\n"
        f"RUN useradd --create-home --shell /bin/sh {SERVICE_USER}\n"
        f"RUN mkdir -p {WORKDIR}\n"
        f"WORKDIR {WORKDIR}\n"
        'CMD ["tail", "-f", "/dev/null"]\n'
    )


def validate_helm_values(values: dict[str, Any], chart: Path | None = None) -> list[str]:
    """Check Helm values as Helm does before it installs a release.

    The values are merged into the chart's defaults, then checked against the chart's
    `values.schema.json`.

    Args:
        values: The values to check.
        chart: The chart directory (default: the `agent-env` chart of the installed
            `inspect-k8s-sandbox`).

    Returns:
        One line per problem; empty if the values are valid.

    Raises:
        ConfigError: If no chart is given and `inspect-k8s-sandbox` is not installed.
    """
    import jsonschema

    directory = chart or _installed_chart()
    defaults = yaml.safe_load((directory / "values.yaml").read_text(encoding="utf-8")) or {}
    schema = json.loads((directory / "values.schema.json").read_text(encoding="utf-8"))
    merged = _helm_merge(defaults, values)
    validator = jsonschema.Draft7Validator(schema)
    problems = sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in problems]


def _installed_chart() -> Path:
    if find_spec("k8s_sandbox") is None:
        raise ConfigError(
            f"Cannot check the Helm values: {K8S_PACKAGE} is not installed "
            f"(pip install {K8S_PACKAGE})."
        )
    chart = resources.files("k8s_sandbox") / "resources" / "helm" / "agent-env"
    return Path(str(chart))


def _helm_merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of user values into a chart's defaults.

    Maps merge key by key, any other value replaces the default, a null deletes the key.
    """
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
