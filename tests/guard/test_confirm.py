import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

import tripwire
from tripwire._errors import ConfigError
from tripwire.guard import (
    AutoChannel,
    ConfirmChannel,
    ConfirmRequest,
    Decision,
    FileQueueChannel,
    GuardCall,
    TerminalChannel,
    answer_request,
    channel_from_spec,
    pending_requests,
)


def make_request(command: str = "rm -rf /w/project") -> ConfirmRequest:
    return ConfirmRequest(
        call=GuardCall(tool="bash", arguments={"command": command}, cwd="/w"),
        decision=Decision(action="ask", rule="confirm-deletes", reason="deletes a directory"),
    )


async def wait_for_request(directory: Path, id: str) -> Path:
    path = directory / f"{id}.request.json"
    for _ in range(200):
        if path.exists():
            return path
        await asyncio.sleep(0.01)
    raise AssertionError(f"request {id} never appeared in {directory}")


# --- file queue ------------------------------------------------------------------------


@pytest.mark.parametrize("approved", [True, False])
async def test_file_queue_answer_is_applied_and_archived(tmp_path, approved):
    channel = FileQueueChannel(tmp_path, timeout=5, poll=0.01)
    request = make_request()

    async def operator():
        path = await wait_for_request(tmp_path, request.id)
        written = ConfirmRequest.model_validate_json(path.read_text())
        assert written == request  # the operator sees the whole request
        answer_request(tmp_path, request.id, approved, "alice", "checked the path")

    answer, _ = await asyncio.gather(channel.confirm(request), operator())
    assert answer.approved is approved
    assert answer.by == f"file:{tmp_path} (alice)" and answer.note == "checked the path"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]  # nothing left pending
    archived = sorted(p.name for p in (tmp_path / "archive").iterdir())
    assert archived == [f"{request.id}.{kind}.json" for kind in ("answer", "outcome", "request")]
    outcome = json.loads((tmp_path / "archive" / f"{request.id}.outcome.json").read_text())
    assert outcome["approved"] is approved


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "json"),
        ('{"approved": "yes"}', "approved"),
        ('{"by": "alice"}', "approved"),
        ("[]", "file"),
    ],
)
async def test_file_queue_malformed_answer_is_denied_with_reason(tmp_path, content, why):
    channel = FileQueueChannel(tmp_path, timeout=5, poll=0.01)
    request = make_request()

    async def operator():
        await wait_for_request(tmp_path, request.id)
        (tmp_path / f"{request.id}.answer.json").write_text(content)

    answer, _ = await asyncio.gather(channel.confirm(request), operator())
    assert answer.approved is False
    assert answer.by == f"file:{tmp_path}"
    assert "malformed answer" in answer.note and why in answer.note.lower()
    assert not (tmp_path / f"{request.id}.answer.json").exists()  # archived, not left behind


async def test_file_queue_answer_caught_mid_write_is_read_again(tmp_path):
    channel = FileQueueChannel(tmp_path, timeout=5, poll=0.2)
    request = make_request()
    answer_path = tmp_path / f"{request.id}.answer.json"

    async def slow_operator():
        await wait_for_request(tmp_path, request.id)
        answer_path.write_text('{"approved": tr')  # a non-atomic writer, half done
        await asyncio.sleep(0.05)  # well within one poll: seen half-written once at most
        answer_path.write_text('{"approved": true, "by": "bob"}')

    # Depending on timing the half file is seen once or not at all; never twice in a row.
    answer, _ = await asyncio.gather(channel.confirm(request), slow_operator())
    assert answer.approved is True and answer.by.endswith("(bob)")


async def test_file_queue_timeout_denies_and_archives(tmp_path):
    channel = FileQueueChannel(tmp_path, timeout=0.2, poll=0.02)
    request = make_request()
    loop = asyncio.get_running_loop()
    start = loop.time()
    answer = await channel.confirm(request)
    elapsed = loop.time() - start
    assert answer.approved is False and answer.by == "timeout"
    assert 0.2 <= elapsed < 2.0
    assert not (tmp_path / f"{request.id}.request.json").exists()
    assert (tmp_path / "archive" / f"{request.id}.request.json").exists()
    with pytest.raises(ConfigError, match="No pending request"):  # a late answer is refused
        answer_request(tmp_path, request.id, True, "late")


async def test_file_queue_cancelled_wait_archives_a_denial(tmp_path):
    channel = FileQueueChannel(tmp_path, timeout=30, poll=0.01)
    request = make_request()
    task = asyncio.create_task(channel.confirm(request))
    await wait_for_request(tmp_path, request.id)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    outcome = json.loads((tmp_path / "archive" / f"{request.id}.outcome.json").read_text())
    assert outcome["approved"] is False and "cancelled" in outcome["note"]


async def test_file_queue_unwritable_directory_denies(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    answer = await FileQueueChannel(blocker / "queue", timeout=1).confirm(make_request())
    assert answer.approved is False and "could not write the request" in answer.note


async def test_pending_requests_and_answer_request_checks(tmp_path):
    channel = FileQueueChannel(tmp_path, timeout=5, poll=0.01)
    first, second = make_request("a"), make_request("b")
    tasks = [asyncio.create_task(channel.confirm(r)) for r in (first, second)]
    await wait_for_request(tmp_path, first.id)
    await wait_for_request(tmp_path, second.id)
    assert {r.id for r in pending_requests(tmp_path)} == {first.id, second.id}
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files
    with pytest.raises(ConfigError, match="32 lower-case hex"):
        answer_request(tmp_path, "../../etc/passwd", True, "mallory")
    answer_request(tmp_path, first.id, True, "alice")
    answer_request(tmp_path, second.id, False, "alice", "no")
    answers = await asyncio.gather(*tasks)
    assert [a.approved for a in answers] == [True, False]
    assert pending_requests(tmp_path) == []


# --- terminal --------------------------------------------------------------------------


async def test_terminal_without_tty_denies(tmp_path):
    channel = TerminalChannel(timeout=1, tty=str(tmp_path / "no-such-tty"))
    answer = await channel.confirm(make_request())
    assert answer.approved is False and answer.by == "no-terminal"


async def test_terminal_in_a_process_without_controlling_terminal_denies():
    # The real /dev/tty from a session with no terminal (setsid): opening it fails.
    code = (
        "import asyncio\n"
        "from tripwire.guard import TerminalChannel, ConfirmRequest, GuardCall, Decision\n"
        "r = ConfirmRequest(call=GuardCall(tool='bash'),"
        " decision=Decision(action='ask', rule='r', reason='x'))\n"
        "a = asyncio.run(TerminalChannel(timeout=1).confirm(r))\n"
        "print(a.approved, a.by)\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(tripwire.__file__).parents[1])},
    )
    stdout, _ = await process.communicate()
    assert stdout.decode().split() == ["False", "no-terminal"]


@pytest.fixture
def pty():
    master, slave = os.openpty()
    yield master, os.ttyname(slave)
    os.close(slave)
    os.close(master)


def read_master(master: int) -> str:
    import select

    out = b""
    while select.select([master], [], [], 0.05)[0]:
        out += os.read(master, 4096)
    return out.decode(errors="replace")


@pytest.mark.parametrize(
    ("typed", "approved"),
    [(b"y\n", True), (b"YES\n", True), (b"n\n", False), (b"\n", False), (b"sure\n", False)],
)
async def test_terminal_reads_the_answer(pty, typed, approved):
    master, tty = pty
    channel = TerminalChannel(timeout=5, tty=tty)
    task = asyncio.create_task(channel.confirm(make_request("rm -rf /w/project")))
    await asyncio.sleep(0.1)
    shown = read_master(master)
    assert "rm -rf /w/project" in shown and "deletes a directory" in shown and "[y/N]" in shown
    os.write(master, typed)
    answer = await task
    assert answer.approved is approved and answer.by == "terminal"


async def test_terminal_timeout_denies(pty):
    _, tty = pty
    answer = await TerminalChannel(timeout=0.2, tty=tty).confirm(make_request())
    assert answer.approved is False and answer.by == "timeout"


async def test_terminal_escapes_control_characters_from_the_agent(pty):
    master, tty = pty
    channel = TerminalChannel(timeout=0.3, tty=tty)
    request = ConfirmRequest(
        call=GuardCall(tool="bash\x1b[2J", arguments={"command": "ls\x1b[2J\rALLOWED: ok"}),
        decision=Decision(action="ask", rule="r", reason="writes x\x1b]0;y\x07"),
    )
    task = asyncio.create_task(channel.confirm(request))
    await asyncio.sleep(0.1)
    shown = read_master(master)
    await task
    assert "\x1b" not in shown and "\x07" not in shown
    assert "bash\\x1b[2J" in shown and "x\\x1b]0;y\\x07" in shown  # visible, inert
    assert "ls\\u001b[2J\\rALLOWED" in shown  # arguments are shown as JSON


# --- auto and specs --------------------------------------------------------------------


async def test_auto_channels_answer_at_once_and_say_so():
    deny = await AutoChannel().confirm(make_request())
    approve = await AutoChannel(approved=True).confirm(make_request())
    assert (deny.approved, deny.by) == (False, "auto-deny")
    assert approve.approved is True and "tests only" in approve.by


@pytest.mark.parametrize(
    ("spec", "kind", "attrs"),
    [
        ("deny", AutoChannel, {"approved": False}),
        ("approve", AutoChannel, {"approved": True}),
        ("terminal", TerminalChannel, {"timeout": 120.0}),
        ("terminal:30", TerminalChannel, {"timeout": 30.0}),
        ("file:/var/q", FileQueueChannel, {"directory": Path("/var/q"), "timeout": 600.0}),
        ("file:/var/q:2.5", FileQueueChannel, {"directory": Path("/var/q"), "timeout": 2.5}),
        ("file:/var/a:b/q", FileQueueChannel, {"directory": Path("/var/a:b/q"), "timeout": 600.0}),
    ],
)
def test_channel_from_spec(spec, kind, attrs):
    channel = channel_from_spec(spec)
    assert isinstance(channel, kind) and isinstance(channel, ConfirmChannel)
    assert {name: getattr(channel, name) for name in attrs} == attrs


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "allow",
        "deny:5",
        "terminal:soon",
        "terminal:-1",
        "terminal:inf",
        "file:",
        "file:/q:0",
        "mail:ops",
    ],
)
def test_bad_spec_names_the_accepted_forms(spec):
    with pytest.raises(ConfigError, match=r"'terminal\[:TIMEOUT\]' or 'file:DIR\[:TIMEOUT\]'"):
        channel_from_spec(spec)
