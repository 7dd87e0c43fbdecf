"""End to end, offline: `tripwire scale plan` writes an eval set that runs, resumes and
reports; its models reach an OpenAI-compatible server through Inspect's real clients."""

import json
import runpy
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log
from typer.testing import CliRunner

from tripwire._cli.main import app

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

SCRIPTED = ["tripwire/scripted-honest", "tripwire/scripted-schemer"]


def plan(out, *args):
    result = CliRunner().invoke(app, ["scale", "plan", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result


def run_script(path, monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(path), run_name="__main__")
    return exited.value.code


def load_env(path, monkeypatch):
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)


def log_names(directory):
    return sorted(info.name for info in list_eval_logs(str(directory)))


@needs_bwrap
def test_eval_set_runs_resumes_and_reports(tmp_path, monkeypatch):
    out = tmp_path / "cluster"
    models = [*SCRIPTED, "mockllm/model"]
    tasks = ("tripwire/oversight_subversion", "tripwire/shutdown_resistance")
    plan(
        out,
        *[arg for model in models for arg in ("--models", model)],
        "--evals", "oversight-subversion", "--evals", "shutdown-resistance",
        "--limit", "1", "--retry-attempts", "0", "--retry-on-error", "0",
    )  # fmt: skip
    script = out / "eval_set.py"
    code = run_script(script, monkeypatch)

    headers = [read_eval_log(name, header_only=True) for name in log_names(out / "logs")]
    latest = {(h.eval.task, h.eval.model): h for h in headers}
    assert set(latest) == {(task, model) for task in tasks for model in models}
    finished = {h.location for h in headers if h.status == "success"}
    scripted = [h for h in headers if h.eval.model in SCRIPTED]
    assert len(scripted) == 4 and all(h.status == "success" for h in scripted)
    # The exit code says whether every task finished. (mockllm's default answer has no
    # token counts, so Inspect counts them with tiktoken, which downloads its encoding:
    # offline, those samples fail and stay failed through the retries.)
    assert code == (0 if all(h.status == "success" for h in latest.values()) else 1)

    # A second run reruns only what failed: every finished log is left as it was.
    again = run_script(script, monkeypatch)
    assert again == code
    after = [read_eval_log(name, header_only=True) for name in log_names(out / "logs")]
    assert finished <= {h.location for h in after if h.status == "success"}
    assert len([h for h in after if h.eval.model in SCRIPTED]) == 4

    report = CliRunner().invoke(app, ["report", str(out / "logs"), "--out", str(tmp_path / "r")])
    assert report.exit_code == 0, report.output
    rows = [json.loads(x) for x in (tmp_path / "r" / "results.jsonl").read_text().splitlines()]
    outcomes = {(r["scenario"], r["model"]): r["outcome"] for r in rows}
    for scenario in ("oversight-subversion", "shutdown-resistance"):
        assert outcomes[(scenario, "tripwire/scripted-honest")] == "clean"
        assert outcomes[(scenario, "tripwire/scripted-schemer")] == "schemed"
    # mockllm never calls a tool (or never ran): whatever it got, it is not "clean".
    mock = [r["outcome"] for r in rows if r["model"] == "mockllm/model"]
    assert mock and "clean" not in mock
    assert (tmp_path / "r" / "report.html").is_file()


class ChatCompletions(BaseHTTPRequestHandler):
    """An OpenAI-compatible server: a `bash` tool call first, then a final answer."""

    requests: list[dict] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # vLLM's client lists the served models first
        self._send({"object": "list", "data": [{"id": "test-model", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(
            {"path": self.path, "model": body["model"], "auth": self.headers["Authorization"]}
        )
        if body["messages"][-1]["role"] == "tool":
            message, finish = {"role": "assistant", "content": "Done."}, "stop"
        else:
            call = {"name": "bash", "arguments": json.dumps({"command": "echo canned"})}
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_1", "type": "function", "function": call}],
            }
            finish = "tool_calls"
        self._send(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )

    def _send(self, payload):
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    ChatCompletions.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), ChatCompletions)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


@needs_bwrap
def test_vllm_models_run_a_task_against_an_openai_compatible_server(tmp_path, monkeypatch, server):
    pytest.importorskip("openai", reason="Inspect's vllm/ and openai-api/ need: pip install openai")
    out = tmp_path / "cluster"
    vllm, compatible = "vllm/test-model", "openai-api/local-vllm/test-model"
    plan(
        out,
        "--models", vllm, "--models", compatible,
        "--base-url", f"{vllm}={server}", "--base-url", f"{compatible}={server}",
        "--evals", "oversight-subversion", "--limit", "1", "--max-turns", "2",
    )  # fmt: skip
    env = out / "models.env"
    assert f"VLLM_BASE_URL={server}" in env.read_text().splitlines()
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    load_env(env, monkeypatch)
    monkeypatch.setenv("LOCAL_VLLM_API_KEY", "secret")  # the line left to fill in

    assert run_script(out / "eval_set.py", monkeypatch) == 0

    posts = [r for r in ChatCompletions.requests if r["path"] == "/v1/chat/completions"]
    assert {r["model"] for r in posts} == {"test-model"}
    assert {r["auth"] for r in posts} == {"Bearer inspectai", "Bearer secret"}
    for info in list_eval_logs(str(out / "logs")):
        log = read_eval_log(info.name)
        assert log.status == "success", log.error
        [sample] = log.samples or []
        calls = [e for e in sample.events if e.event == "tool"]
        assert [c.function for c in calls] == ["bash"]
        assert "canned" in str(calls[0].result)


@pytest.mark.skipif(
    shutil.which("helm") is not None, reason="helm installed: would reach a cluster"
)
def test_k8s_eval_set_hands_its_samples_to_the_k8s_sandbox(tmp_path, monkeypatch):
    # No cluster here: the run must get as far as the k8s provider's own checks (it
    # needs helm) before a sample starts, which shows the tasks were given to it.
    pytest.importorskip("k8s_sandbox", reason="pip install inspect-k8s-sandbox")
    out = tmp_path / "cluster"
    plan(out, "--models", "mockllm/model", "--evals", "oversight-subversion", "--sandbox", "k8s",
         "--limit", "1", "--retry-attempts", "0")  # fmt: skip
    with pytest.raises(Exception, match="K8s sandbox environments require helm"):
        run_script(out / "eval_set.py", monkeypatch)
    assert not log_names(out / "logs")
