"""`tripwire scale plan|check` on the command line: files, checks and one-line errors."""

import pytest
import yaml
from typer.testing import CliRunner

from tripwire._cli.main import app
from tripwire._errors import ConfigError
from tripwire.scale import K8sSandbox, helm_values


def invoke(*args):
    return CliRunner().invoke(app, ["scale", *args])


def test_bwrap_plan_writes_no_k8s_files(tmp_path):
    result = invoke("plan", "-m", "openai/gpt-4o", "--evals", "sandbagging", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "eval_set.py", "models.env"]
    assert "sandbox=None," in (tmp_path / "eval_set.py").read_text()
    assert "OPENAI_API_KEY=" in (tmp_path / "models.env").read_text().splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sandbox", "docker"], "Unknown sandbox 'docker': choose bwrap or k8s."),
        (["--base-url", "nourl"], "--base-url takes MODEL=URL, not 'nourl'."),
        (["--evals", "goal-guarding", "--sandbox", "k8s"], "None of goal-guarding can run"),
    ],
)
def test_bad_plans_are_config_errors_and_write_nothing(tmp_path, args, message):
    # ConfigError: `tripwire` prints it as one red line and exits 2.
    out = tmp_path / "out"
    result = invoke("plan", "-m", "vllm/a", "--out", str(out), *args)
    assert isinstance(result.exception, ConfigError)
    assert message in str(result.exception)
    assert not out.exists()


def test_check_reports_each_problem_and_exits_1(tmp_path):
    pytest.importorskip("k8s_sandbox", reason="pip install inspect-k8s-sandbox")
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(helm_values(K8sSandbox())))
    result = invoke("check", str(good))
    assert result.exit_code == 0, result.output
    assert "valid for inspect-k8s-sandbox" in result.output

    values = helm_values(K8sSandbox())
    values["services"]["default"]["imagee"] = "typo"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(values))
    result = invoke("check", str(bad))
    assert result.exit_code == 1
    assert "imagee" in result.output
