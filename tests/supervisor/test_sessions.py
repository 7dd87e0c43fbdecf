"""Shells that read commands from a pipe or a terminal: every command is still checked."""

import json

from supervised_helpers import agent_script, needs_sandbox, supervise

pytestmark = needs_sandbox

PERSISTENT = """
import json, subprocess
# A persistent shell session, as agent frameworks keep one: commands written to its
# stdin one by one, the pipe never closed between them.
shell = subprocess.Popen([SHELL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, bufsize=1)
def run(cmd):
    shell.stdin.write(cmd + "\\necho __done__ $?\\n")
    shell.stdin.flush()
    out = []
    for line in shell.stdout:
        if line.startswith("__done__"):
            return out, int(line.split()[1])
        out.append(line.rstrip("\\n"))
results = {
    "benign": run("cd src && ls && cd .."),
    "tamper": run("sed -i 's/true/false/' project/oversight_config.yaml"),
    "unhook": run("trap - DEBUG"),
    "after-unhook": run("rm .claude/settings.json"),
    "real-shell": run("/opt/tripwire/real/bash -c 'echo escaped'"),
    "state-kept": run("export X=kept; echo $X"),
}
shell.stdin.close()
shell.wait(timeout=10)
json.dump(results, open("out.json", "w"))
"""


def _run_session(tmp_path, project, shell):
    command = agent_script(project, PERSISTENT.replace("SHELL", repr(shell)))
    summary, incidents, _ = supervise(tmp_path, project, command, timeout=60)
    return summary, json.loads((project / "out.json").read_text())


def test_persistent_bash_session_is_checked_line_by_line(tmp_path, project):
    summary, out = _run_session(tmp_path, project, "bash")
    assert summary.status == "finished"
    assert out["benign"] == [["app.py"], 0]
    for name in ("tamper", "unhook", "after-unhook", "real-shell"):
        lines, _ = out[name]
        assert any("tripwire guard: refused by rule" in line for line in lines), (name, out)
    assert not any("escaped" in line for line in out["real-shell"][0])
    assert out["state-kept"] == [["kept"], 0]
    assert "oversight_enabled: true" in (project / "project/oversight_config.yaml").read_text()
    assert (project / ".claude/settings.json").exists()


def test_persistent_sh_session_is_checked_too(tmp_path, project):
    summary, out = _run_session(tmp_path, project, "sh")
    assert summary.status == "finished"
    assert out["benign"] == [["app.py"], 0]
    assert any("refused by rule" in line for line in out["tamper"][0])
    assert "oversight_enabled: true" in (project / "project/oversight_config.yaml").read_text()


def test_script_piped_into_sh_is_checked(tmp_path, project):
    command = agent_script(
        project,
        """
        import subprocess
        script = "echo one > one.txt\\nsed -i 's/true/false/' project/oversight_config.yaml\\n"
        r = subprocess.run(["sh"], input=script, capture_output=True, text=True)
        open("err.txt", "w").write(r.stderr)
        """,
    )
    summary, _, _ = supervise(tmp_path, project, command)
    assert summary.status == "finished"
    assert (project / "one.txt").read_text() == "one\n"
    assert "refused by rule oversight-tamper" in (project / "err.txt").read_text()
    assert "oversight_enabled: true" in (project / "project/oversight_config.yaml").read_text()


def test_interactive_shell_on_a_terminal_is_checked(tmp_path, project):
    command = agent_script(
        project,
        """
        import os, pty, time
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp("bash", ["bash", "--norc", "-i"])
        def send(text):
            os.write(fd, text.encode())
            time.sleep(1.0)
        send("echo hi > hi.txt\\n")
        send("rm .claude/settings.json\\n")
        send("exit\\n")
        out = b""
        try:
            while chunk := os.read(fd, 4096):
                out += chunk
        except OSError:
            pass
        open("tty.txt", "wb").write(out)
        os.waitpid(pid, 0)
        """,
    )
    summary, _, _ = supervise(tmp_path, project, command)
    assert summary.status == "finished"
    assert (project / "hi.txt").read_text() == "hi\n"
    assert (project / ".claude/settings.json").exists()
    assert b"refused by rule" in (project / "tty.txt").read_bytes()


def test_a_script_file_followed_by_dash_c_is_still_checked(tmp_path, project):
    # The first operand ends the options: `-c true` are the script's arguments, and the
    # script's own commands are what runs.
    command = agent_script(
        project,
        """
        import subprocess
        open("tamper.sh", "w").write("sed -i 's/true/false/' project/oversight_config.yaml\\n")
        r = subprocess.run(["bash", "tamper.sh", "-c", "true"], capture_output=True, text=True)
        open("err.txt", "w").write(r.stderr)
        """,
    )
    summary, _, _ = supervise(tmp_path, project, command)
    assert summary.status == "finished"
    assert "refused by rule oversight-tamper" in (project / "err.txt").read_text()
