"""docs/scale-out.md shows files the command it quotes writes today."""

import re
import shlex
import sys
from pathlib import Path

from typer.testing import CliRunner

from tripwire._cli.main import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale-out.md"


def quoted_command(text):
    block = re.search(r"<!-- command -->\n```console\n\$ (.*?)\n```", text, re.DOTALL)
    assert block, "docs/scale-out.md has no <!-- command --> block"
    return shlex.split(block.group(1).replace("\\\n", " "))


def shown_files(text):
    found = re.findall(r"<!-- generated: (\S+) -->\n```\w*\n(.*?)```\n", text, re.DOTALL)
    return dict(found)


def test_the_files_shown_are_what_the_command_writes(tmp_path, monkeypatch):
    text = DOC.read_text()
    command = quoted_command(text)
    assert command[:3] == ["tripwire", "scale", "plan"]
    shown = shown_files(text)
    assert {"cluster/eval_set.py", "cluster/values.yaml", "cluster/models.env"} <= set(shown)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", command)  # recorded in the files as the command
    result = CliRunner().invoke(app, command[1:])
    assert result.exit_code == 0, result.output
    for name, content in shown.items():
        assert (tmp_path / name).read_text() == content, (
            f"{name} in docs/scale-out.md is out of date: rerun the quoted command "
            "and paste the file."
        )
