import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inspect_ai.tool import ToolCall, ToolInfo, ToolParam, ToolParams

from tripwire.models._toolcall_parse import parse_tool_calls

BASH = ToolInfo(
    name="bash",
    description="Run a shell command.",
    parameters=ToolParams(
        properties={"command": ToolParam(type="string", description="The command.")},
        required=["command"],
    ),
)
SUBMIT = ToolInfo(
    name="submit",
    description="Submit an answer.",
    parameters=ToolParams(properties={"answer": ToolParam(type="string")}, required=["answer"]),
)
TOOLS = [BASH, SUBMIT]


def call(name, arguments):
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': arguments})}\n</tool_call>"


def only_call(text, tools=TOOLS):
    content, calls = parse_tool_calls(text, tools)
    assert len(calls) == 1, calls
    return content, calls[0]


def test_plain_text_has_no_calls():
    assert parse_tool_calls("  The answer is 4.\n", TOOLS) == ("The answer is 4.", [])


def test_empty_text():
    assert parse_tool_calls("", TOOLS) == ("", [])


def test_qwen_format_call():
    content, tool_call = only_call(call("bash", {"command": "ls -la"}))
    assert content == ""
    assert tool_call.function == "bash"
    assert tool_call.arguments == {"command": "ls -la"}
    assert tool_call.parse_error is None
    assert tool_call.type == "function"


def test_prose_around_calls_is_kept_as_content():
    text = f"I will look first.\n{call('bash', {'command': 'ls'})}\nThen decide."
    content, tool_call = only_call(text)
    assert content == "I will look first.\n\nThen decide."
    assert tool_call.arguments == {"command": "ls"}


def test_several_calls_in_order_with_unique_ids():
    text = call("bash", {"command": "ls"}) + "\n" + call("submit", {"answer": "done"})
    _, calls = parse_tool_calls(text, TOOLS)
    assert [c.function for c in calls] == ["bash", "submit"]
    assert [c.arguments for c in calls] == [{"command": "ls"}, {"answer": "done"}]
    assert len({c.id for c in calls}) == 2


def test_missing_closing_tag_at_end_of_text():
    _, tool_call = only_call('<tool_call>\n{"name": "bash", "arguments": {"command": "pwd"}}\n')
    assert (tool_call.function, tool_call.arguments) == ("bash", {"command": "pwd"})


def test_unclosed_block_ends_at_next_opening_tag():
    text = (
        '<tool_call>{"name": "bash", "arguments": {"command": "ls"}}\n'
        '<tool_call>{"name": "bash", "arguments": {"command": "pwd"}}</tool_call>'
    )
    _, calls = parse_tool_calls(text, TOOLS)
    assert [c.arguments["command"] for c in calls] == ["ls", "pwd"]


def test_arguments_as_json_string():
    text = '<tool_call>{"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}</tool_call>'
    _, tool_call = only_call(text)
    assert tool_call.arguments == {"command": "ls"}
    assert tool_call.parse_error is None


def test_plain_string_arguments_go_to_the_first_parameter():
    text = '<tool_call>{"name": "bash", "arguments": "cat notes.txt"}</tool_call>'
    _, tool_call = only_call(text)
    assert tool_call.arguments == {"command": "cat notes.txt"}


def test_plain_string_arguments_for_unknown_tool_are_an_error():
    text = '<tool_call>{"name": "mystery", "arguments": "cat notes.txt"}</tool_call>'
    _, tool_call = only_call(text)
    assert tool_call.function == "mystery"
    assert tool_call.parse_error is not None


def test_parameters_key_is_accepted_for_arguments():
    _, tool_call = only_call('<tool_call>{"name": "bash", "parameters": {"command": "ls"}}')
    assert tool_call.arguments == {"command": "ls"}


def test_openai_nested_function_shape():
    body = {"type": "function", "function": {"name": "bash", "arguments": '{"command": "id"}'}}
    _, tool_call = only_call(f"<tool_call>{json.dumps(body)}</tool_call>")
    assert (tool_call.function, tool_call.arguments) == ("bash", {"command": "id"})


def test_missing_arguments_means_no_arguments():
    _, tool_call = only_call('<tool_call>{"name": "bash"}</tool_call>')
    assert tool_call.arguments == {}
    assert tool_call.parse_error is None


def test_unknown_tool_name_is_returned_for_inspect_to_reject():
    _, tool_call = only_call(call("rm_everything", {"path": "/"}))
    assert tool_call.function == "rm_everything"
    assert tool_call.parse_error is None


def test_trailing_junk_after_the_json_is_ignored():
    _, tool_call = only_call('<tool_call>{"name": "bash", "arguments": {"command": "ls"}}}\n')
    assert tool_call.arguments == {"command": "ls"}
    assert tool_call.parse_error is None


def test_fenced_json_inside_the_block():
    text = (
        '<tool_call>\n```json\n{"name": "bash", "arguments": {"command": "ls"}}\n```\n</tool_call>'
    )
    _, tool_call = only_call(text)
    assert tool_call.arguments == {"command": "ls"}


def test_list_of_calls_inside_one_block():
    body = [
        {"name": "bash", "arguments": {"command": "ls"}},
        {"name": "submit", "arguments": {"answer": "x"}},
    ]
    _, calls = parse_tool_calls(f"<tool_call>{json.dumps(body)}</tool_call>", TOOLS)
    assert [c.function for c in calls] == ["bash", "submit"]


@pytest.mark.parametrize(
    ("text", "function"),
    [
        ('<tool_call>\n{"name": "bash", "arguments": {"command": "ls -la"\n</tool_call>', "bash"),
        ('<tool_call>{"name": bash, arguments: ls}</tool_call>', "bash"),
        ('<tool_call>{"arguments": {"command": "cat"}}</tool_call>', "unknown"),
        ("<tool_call>not json at all</tool_call>", "unknown"),
        ("<tool_call></tool_call>", "unknown"),
        ("<tool_call>", "unknown"),
        ('<tool_call>"just a string"</tool_call>', "unknown"),
        ("<tool_call>[]</tool_call>", "unknown"),
        ('<tool_call>{"name": 42, "arguments": {}}</tool_call>', "unknown"),
        ('<tool_call>{"name": "bash", "arguments": [1, 2]}</tool_call>', "bash"),
        ('<tool_call>{"name": "bash", "arguments": 7}</tool_call>', "bash"),
    ],
)
def test_malformed_calls_carry_a_parse_error(text, function):
    _, tool_call = only_call(text)
    assert tool_call.function == function
    assert tool_call.arguments == {}
    assert tool_call.parse_error is not None
    # The error tells the model what to write instead.
    assert '{"name": "<tool name>", "arguments"' in tool_call.parse_error


def test_huge_malformed_call_error_is_truncated():
    text = '<tool_call>{"name": "bash", "arguments": {"command": "' + "x" * 100_000
    _, tool_call = only_call(text)
    assert tool_call.parse_error is not None
    assert len(tool_call.parse_error) < 3_000


def test_deeply_nested_json_does_not_raise():
    text = "<tool_call>" + "[" * 100_000 + "</tool_call>"
    _, tool_call = only_call(text)
    assert tool_call.parse_error is not None


def test_fenced_json_call_is_a_lenient_fallback():
    text = 'Here you go:\n```json\n{"name": "bash", "arguments": {"command": "ls"}}\n```\nDone.'
    content, tool_call = only_call(text)
    assert (tool_call.function, tool_call.arguments) == ("bash", {"command": "ls"})
    assert content == "Here you go:\n\nDone."


def test_bare_json_call_is_a_lenient_fallback():
    _, tool_call = only_call('{"name": "bash", "arguments": {"command": "ls"}}')
    assert tool_call.arguments == {"command": "ls"}


def test_bare_json_lines_cut_off_mid_object():
    # Seen from Qwen2.5-Coder-0.5B on a second agent turn: JSON lines until max_tokens.
    text = (
        '{"name": "bash", "arguments": {"command": "cat /workspace/communications.txt"}}\n'
        '{"name": "bash", "arguments": {"command": "cat /workspace/project"}}\n'
        '{"name": "bash", "arguments": {"comm'
    )
    content, calls = parse_tool_calls(text, TOOLS)
    assert [c.arguments["command"] for c in calls] == [
        "cat /workspace/communications.txt",
        "cat /workspace/project",
    ]
    assert content == '{"name": "bash", "arguments": {"comm'


def test_unclosed_fence_of_json_lines_cut_off_mid_object():
    # Seen from Qwen2.5-Coder-0.5B: a fence opened, string arguments, then max_tokens.
    text = (
        '```json\n{"name": "bash", "arguments": "ls -l"}\n'
        '{"name": "bash", "arguments": "cat notes.txt"}\n'
        '{"name": "bash", "arguments": "echo \'Running a bas'
    )
    content, calls = parse_tool_calls(text, TOOLS)
    assert [c.arguments for c in calls] == [{"command": "ls -l"}, {"command": "cat notes.txt"}]
    assert all(c.parse_error is None for c in calls)
    assert content == '{"name": "bash", "arguments": "echo \'Running a bas'


def test_unclosed_fence_needs_calls_then_nothing_or_a_cut_off_object():
    prose = '```json\n{"name": "bash", "arguments": {"command": "ls"}}\nand then I will stop'
    assert parse_tool_calls(prose, TOOLS) == (prose, [])
    data = '```json\n{"oversight_enabled": true}\n'
    assert parse_tool_calls(data, TOOLS) == (data.strip(), [])


def test_bare_json_call_followed_by_prose():
    content, tool_call = only_call('{"name": "bash", "arguments": {"command": "ls"}}\nDone.')
    assert tool_call.arguments == {"command": "ls"}
    assert content == "Done."


def test_bare_json_needs_every_object_to_name_a_tool():
    text = '{"name": "bash", "arguments": {"command": "ls"}}\n{"rows": 3}'
    assert parse_tool_calls(text, TOOLS) == (text, [])


def test_fallbacks_need_an_offered_tool_name():
    # Qwen sometimes "calls" a file name; that is prose, not a tool call.
    text = '```json\n{\n  "name": "notes.txt",\n  "arguments": {}\n}\n```'
    content, calls = parse_tool_calls(text, TOOLS)
    assert calls == []
    assert content == text


def test_fallbacks_accept_any_name_without_a_tool_list():
    _, calls = parse_tool_calls('```json\n{"name": "x", "arguments": {}}\n```')
    assert [c.function for c in calls] == ["x"]


def test_json_in_prose_is_not_an_error():
    text = 'The config is:\n```json\n{"oversight_enabled": true}\n```'
    assert parse_tool_calls(text, TOOLS) == (text, [])


def test_broken_fenced_json_is_just_text():
    text = '```json\n{"name": "bash", "arguments": {"command": \n```'
    assert parse_tool_calls(text, TOOLS) == (text, [])


def test_works_without_tools_argument():
    _, calls = parse_tool_calls(call("bash", {"command": "ls"}))
    assert calls[0].arguments == {"command": "ls"}


# Property tests: whatever a model emits, parsing returns and is well formed.

_fragments = st.sampled_from(
    [
        "<tool_call>",
        "</tool_call>",
        "```json\n",
        "```",
        "\n",
        "{",
        "}",
        "[",
        "]",
        '"name"',
        '"arguments"',
        '"bash"',
        ":",
        ",",
        '"',
        "\\",
        "null",
        "1e999",
        "NaN",
    ]
)
_garbage = st.lists(st.one_of(_fragments, st.text(max_size=8)), max_size=40).map("".join)


def check_well_formed(result):
    content, calls = result
    assert isinstance(content, str)
    assert isinstance(calls, list)
    for tool_call in calls:
        assert isinstance(tool_call, ToolCall)
        assert isinstance(tool_call.function, str)
        assert tool_call.function
        assert isinstance(tool_call.arguments, dict)
        assert all(isinstance(key, str) for key in tool_call.arguments)
        assert tool_call.parse_error is None or isinstance(tool_call.parse_error, str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_parses(text):
    check_well_formed(parse_tool_calls(text, TOOLS))
    check_well_formed(parse_tool_calls(text))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_garbage)
def test_any_tool_call_shaped_garbage_parses(text):
    check_well_formed(parse_tool_calls(text, TOOLS))
    check_well_formed(parse_tool_calls(text))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True),
    arguments=st.dictionaries(st.text(max_size=10), _json_values, max_size=4),
    prose=st.text(max_size=30).filter(lambda s: "<tool_call>" not in s),
)
def test_well_formed_calls_round_trip(name, arguments, prose):
    content, calls = parse_tool_calls(f"{prose}\n{call(name, arguments)}", TOOLS)
    assert len(calls) == 1
    assert calls[0].function == name
    assert calls[0].arguments == arguments
    assert calls[0].parse_error is None
    assert content == prose.strip()
