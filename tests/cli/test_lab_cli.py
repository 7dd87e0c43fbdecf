"""`tripwire lab` errors are one line and exit 2; help names the extra."""

from tests.cli.test_cli import tripwire


def test_report_of_a_directory_without_a_run_is_one_line(tmp_path):
    result = tripwire("lab", "report", "--out", str(tmp_path / "nothing"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "holds no lab run" in lines[0] and "tripwire lab demo" in lines[0]


def test_unknown_safety_method_is_one_line(tmp_path):
    result = tripwire("lab", "safety-train", "rlhf", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "Unknown safety method 'rlhf'" in result.stderr.strip().splitlines()[0]
    assert not (tmp_path / "manifest.json").exists()


def test_bad_config_file_is_one_line(tmp_path):
    config = tmp_path / "lab.yaml"
    config.write_text("plant_steps: 0\n")
    result = tripwire("lab", "data", "--out", str(tmp_path / "run"), "--config", str(config))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "plant_steps" in lines[0], result.stderr


def test_help_names_the_extra():
    result = tripwire("lab", "--help")
    assert result.returncode == 0
    assert "tripwire[lab]" in result.stdout


def test_bad_seeds_are_one_line(tmp_path):
    result = tripwire("lab", "demo", "--out", str(tmp_path), "--seeds", "0,x")
    assert result.returncode == 2
    assert "--seeds takes integers" in result.stderr.strip().splitlines()[0]


def test_each_backdoor_has_its_own_default_run_directory(tmp_path):
    import subprocess
    import sys

    for flags, directory in (([], "runs/lab"), (["--backdoor", "code"], "runs/lab-code")):
        result = subprocess.run(
            [sys.executable, "-m", "tripwire", "lab", "report", *flags],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert result.returncode == 2
        assert f"{directory} holds no lab run" in result.stderr.strip().splitlines()[0]


def test_unknown_backdoor_is_one_line(tmp_path):
    result = tripwire("lab", "data", "--out", str(tmp_path / "run"), "--backdoor", "rootkit")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "backdoor" in lines[0], result.stderr
