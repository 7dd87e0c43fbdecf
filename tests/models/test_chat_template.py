import json

import pytest
from inspect_ai.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
)
from inspect_ai.tool import ToolCall, ToolCallError, ToolInfo, ToolParam, ToolParams

from tripwire._errors import ModelError
from tripwire.models._chat_template import ChatTemplate, tool_schemas
from tripwire.models._toolcall_parse import parse_tool_calls

# SmolLM2-135M-Instruct's template, verbatim from its GGUF: ChatML, no tool section.
SMOLLM_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# A small tools-aware template in the transformers convention (tools, tool_calls, tojson).
TOOLS_TEMPLATE = """\
{%- if tools %}TOOLS:{% for tool in tools %}{{ tool | tojson }};{% endfor %}
{% endif %}
{%- for message in messages %}
{%- if message.role == 'assistant' and message.tool_calls %}
[assistant]{{ message.content }}{% for tc in message.tool_calls %}\
CALL {{ tc.function.name }} {{ tc.function.arguments | tojson }}{% endfor %}
{% elif message.role == 'tool' %}
[tool]{{ message.content }}
{% else %}
[{{ message.role }}]{{ message.content }}
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}[assistant]{% endif %}"""

BASH = ToolInfo(
    name="bash",
    description="Run a shell command <in the sandbox>.",
    parameters=ToolParams(
        properties={"command": ToolParam(type="string", description="The command.")},
        required=["command"],
    ),
)

CONVERSATION = [
    ChatMessageSystem(content="You are an agent."),
    ChatMessageUser(content="List the files."),
    ChatMessageAssistant(
        content="Looking.",
        tool_calls=[ToolCall(id="c1", function="bash", arguments={"command": "ls"})],
    ),
    ChatMessageTool(content="a.txt\nb.txt", tool_call_id="c1", function="bash"),
    ChatMessageTool(
        content="",
        tool_call_id="c2",
        function="bash",
        error=ToolCallError(type="timeout", message="Command timed out."),
    ),
]


def test_tools_aware_template_gets_tools_and_structured_calls():
    template = ChatTemplate(TOOLS_TEMPLATE, eos_token="</s>")
    assert template.supports_tools
    prompt = template.render(CONVERSATION, [BASH])
    schema = json.dumps(tool_schemas([BASH])[0])
    # tojson must not HTML-escape: the model never saw \u003c in training.
    assert f"TOOLS:{schema};" in prompt
    assert "<in the sandbox>" in prompt
    assert 'CALL bash {"command": "ls"}' in prompt
    assert "[tool]a.txt\nb.txt" in prompt
    assert "[tool]Error: Command timed out." in prompt
    assert prompt.endswith("[assistant]")


def test_tool_schema_is_openai_function_shape():
    assert tool_schemas([BASH]) == [
        {
            "type": "function",
            "function": {
                "name": "bash",
                "description": "Run a shell command <in the sandbox>.",
                "parameters": {
                    "type": "object",
                    "properties": {"command": {"type": "string", "description": "The command."}},
                    "required": ["command"],
                    "additionalProperties": False,
                },
            },
        }
    ]


def test_no_tools_means_no_tool_section():
    prompt = ChatTemplate(TOOLS_TEMPLATE).render(CONVERSATION[:2], [])
    assert "TOOLS" not in prompt


def test_template_without_tools_gets_our_instructions_in_the_system_message():
    template = ChatTemplate(SMOLLM_TEMPLATE, eos_token="<|im_end|>")
    assert not template.supports_tools
    prompt = template.render(CONVERSATION, [BASH])
    system = prompt.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\nYou are an agent.\n\n# Tools")
    assert json.dumps(tool_schemas([BASH])[0], ensure_ascii=False) in system
    assert "<tool_call>" in system
    # Past calls and results are written in the same format the model must use.
    assert (
        '<|im_start|>assistant\nLooking.\n<tool_call>\n{"name": "bash", "arguments": '
        '{"command": "ls"}}\n</tool_call><|im_end|>'
    ) in prompt
    assert (
        "<|im_start|>user\n<tool_response>\na.txt\nb.txt\n</tool_response>\n"
        "<tool_response>\nError: Command timed out.\n</tool_response><|im_end|>"
    ) in prompt
    assert "<|im_start|>tool" not in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_written_out_calls_parse_back():
    prompt = ChatTemplate(SMOLLM_TEMPLATE).render(CONVERSATION[:3], [BASH])
    assistant_turn = prompt.split("<|im_start|>assistant\n")[1].split("<|im_end|>")[0]
    content, calls = parse_tool_calls(assistant_turn, [BASH])
    assert content == "Looking."
    assert [(c.function, c.arguments) for c in calls] == [("bash", {"command": "ls"})]


def test_instructions_become_the_system_message_when_there_is_none():
    prompt = ChatTemplate(SMOLLM_TEMPLATE).render([ChatMessageUser(content="hi")], [BASH])
    assert prompt.startswith("<|im_start|>system\n# Tools")
    assert "SmolLM" not in prompt


def test_no_tools_leaves_the_template_default():
    prompt = ChatTemplate(SMOLLM_TEMPLATE).render([ChatMessageUser(content="hi")], [])
    assert prompt == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_stop_sequences_include_eos_and_turn_marker():
    assert ChatTemplate(SMOLLM_TEMPLATE, eos_token="<|endoftext|>").stop_sequences == [
        "<|endoftext|>",
        "<|im_end|>",
    ]
    assert ChatTemplate(SMOLLM_TEMPLATE, eos_token="<|im_end|>").stop_sequences == ["<|im_end|>"]


def test_raise_exception_becomes_model_error():
    template = ChatTemplate("{{ raise_exception('roles must alternate') }}")
    with pytest.raises(ModelError, match="roles must alternate"):
        template.render([ChatMessageUser(content="hi")], [])


def test_broken_template_is_a_model_error():
    with pytest.raises(ModelError, match="does not compile"):
        ChatTemplate("{% for x in %}")


def test_template_runs_sandboxed():
    template = ChatTemplate("{{ messages.__class__.__mro__ }}")
    with pytest.raises(ModelError):
        template.render([ChatMessageUser(content="hi")], [])
