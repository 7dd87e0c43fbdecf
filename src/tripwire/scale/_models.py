"""The environment each model of a run needs: endpoints and API keys.

Variable names are those Inspect's providers read (inspect_ai 0.3.285): `vllm/<model>`
connects to `VLLM_BASE_URL` (key `VLLM_API_KEY`, default `inspectai`) instead of
starting a server; `openai-api/<service>/<model>` reads `<SERVICE>_BASE_URL` and
`<SERVICE>_API_KEY` (the service name upper-cased, `-` as `_`), which is how several
OpenAI-compatible servers (one vLLM per model) are told apart in one run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from tripwire._errors import ConfigError

__all__ = ["ModelVariable", "model_variables"]

# API-key variables of Inspect's hosted providers that tripwire's docs name.
_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google": "GOOGLE_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "grok": "XAI_API_KEY",
    "together": "TOGETHER_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}


class ModelVariable(BaseModel, frozen=True):
    """One environment variable a model needs."""

    name: str
    """Variable name, e.g. `VLLM_BASE_URL`."""

    value: str
    """Its value; empty when the user must fill it in (a secret)."""

    models: tuple[str, ...]
    """The models that read it."""

    required: bool = True
    """False when the provider has a default (vLLM's key)."""

    note: str = ""
    """What to fill in, when that is not obvious from the name."""


def model_variables(
    models: Sequence[str], base_urls: Mapping[str, str] | None = None
) -> list[ModelVariable]:
    """The variables `models` read, with the base URLs given filled in.

    Args:
        models: Inspect model strings.
        base_urls: Endpoint of each OpenAI-compatible model (`vllm/...`,
            `openai-api/...`), by model string.

    Raises:
        ConfigError: If a base URL is given for a model not in `models` or of a
            provider without one, or two vLLM models are given different URLs
            (`VLLM_BASE_URL` is one server: use `openai-api/<name>/...` for more).
    """
    urls = dict(base_urls or {})
    unknown = sorted(set(urls) - set(models))
    if unknown:
        raise ConfigError(
            f"--base-url names {', '.join(unknown)}, which is not among --models: "
            "give it as --models too."
        )
    found: dict[str, ModelVariable] = {}

    def need(name: str, model: str, value: str = "", required: bool = True, note: str = "") -> None:
        seen = found.get(name)
        if seen is not None and value and seen.value and seen.value != value:
            raise ConfigError(
                f"{model} and {', '.join(seen.models)} both read {name} but were given "
                f"different URLs ({seen.value}, {value}): serve them from one endpoint, "
                "or name each server as openai-api/<server>/<model> (its own "
                "<SERVER>_BASE_URL)."
            )
        if seen is None:
            found[name] = ModelVariable(
                name=name, value=value, models=(model,), required=required, note=note
            )
        else:
            found[name] = seen.model_copy(
                update={"value": seen.value or value, "models": (*seen.models, model)}
            )

    for model in models:
        provider, _, rest = model.partition("/")
        url = urls.get(model, "")
        if provider == "vllm":
            need("VLLM_BASE_URL", model, url)
            need("VLLM_API_KEY", model, required=False)
        elif provider == "openai-api":
            service, _, name = rest.partition("/")
            if not service or not name:
                raise ConfigError(
                    f"{model!r}: an OpenAI-compatible model is openai-api/<service>/<model>, "
                    "e.g. openai-api/vllm-llama/meta-llama/Llama-3.1-8B-Instruct."
                )
            prefix = service.upper().replace("-", "_")
            need(f"{prefix}_BASE_URL", model, url)
            # Inspect requires the key; a vLLM server started without --api-key takes any.
            need(f"{prefix}_API_KEY", model, note="any value if the server has no --api-key")
        elif url:
            raise ConfigError(
                f"--base-url is for vllm/... and openai-api/... models, not {model!r}."
            )
        elif provider in _KEYS:
            need(_KEYS[provider], model)
    return list(found.values())
