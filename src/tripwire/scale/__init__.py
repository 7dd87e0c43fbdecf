"""Running tripwire past one machine: Inspect eval sets, Kubernetes, vLLM.

`write_plan` writes what a cluster run needs (`tripwire scale plan` on the command
line): an `eval_set.py` that runs the catalogue's tasks with `inspect_ai.eval_set`,
the Helm values and image of Inspect's k8s sandbox, and the models' endpoints.
"""

from ._k8s import (
    K8S_PACKAGE,
    WORKDIR,
    K8sSandbox,
    helm_values,
    sandbox_dockerfile,
    validate_helm_values,
)
from ._models import ModelVariable, model_variables
from ._plan import (
    EVAL_SET_SCRIPT,
    MODELS_ENV,
    VALUES_YAML,
    ScalePlan,
    WrittenPlan,
    render_eval_set_script,
    render_models_env,
    write_plan,
)
from ._tasks import ScaleTasks, scale_tasks

__all__ = [
    "EVAL_SET_SCRIPT",
    "K8S_PACKAGE",
    "MODELS_ENV",
    "VALUES_YAML",
    "WORKDIR",
    "K8sSandbox",
    "ModelVariable",
    "ScalePlan",
    "ScaleTasks",
    "WrittenPlan",
    "helm_values",
    "model_variables",
    "render_eval_set_script",
    "render_models_env",
    "sandbox_dockerfile",
    "scale_tasks",
    "validate_helm_values",
    "write_plan",
]
