"""Kill -9 a real `tripwire eval` mid-run, rerun it, and check nothing was redone or lost.

Also: a full disk while writing gives one clear line and leaves earlier files as
they were. The run is a scripted agent in the `local` sandbox, the fastest real path.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log
from typer.testing import CliRunner

from tripwire._atomic import staged_files
from tripwire._cli.main import app
from tripwire.results import rows_from_log_dir

SAMPLES = 20  # 4 conditions x 5; Inspect flushes a log every 10 samples
ARGS = [
    "eval",
    "oversight-subversion",
    "--model",
    "tripwire/scripted-honest",
    "--size",
    "quick",
    "--samples-per-condition",
    "5",
    "--sandbox",
    "local",
]


def tripwire(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def flushed_samples(log: Path) -> int:
    """Samples written into a (possibly still running) `.eval` log; 0 if unreadable."""
    try:
        with zipfile.ZipFile(log) as archive:
            return sum(name.startswith("samples/") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return 0


def kill_once_some_finished(out: Path) -> Path:
    """Start the run, SIGKILL it once a log holds some finished samples; that log."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tripwire", *ARGS, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and process.poll() is None:
            logs = list((out / "logs").glob("*/*.eval"))
            if logs and flushed_samples(logs[0]) > 0:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return logs[0]
            time.sleep(0.1)
    finally:
        # The run's own children (sandbox commands) die with it, as on a crash.
        if process.poll() is None:
            process.kill()
        process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    pytest.fail(f"the run ended (code {process.returncode}) before it could be killed")


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A run killed mid-way, what its log held at the kill, and the rerun's output."""
    out = tmp_path_factory.mktemp("run")
    killed_log = kill_once_some_finished(out)
    assert not (out / "results.jsonl").exists()
    killed = read_eval_log(str(killed_log))
    assert killed.status == "started"
    before = {(s.id, s.epoch): (s.uuid, s.completed_at) for s in killed.samples or []}
    assert 0 < len(before) < SAMPLES
    rerun = tripwire(*ARGS, "--out", str(out))
    return {"out": out, "before": before, "rerun": rerun}


def test_rerun_after_kill_finishes_every_sample_once(resumed: dict[str, object]) -> None:
    out, rerun = resumed["out"], resumed["rerun"]
    assert isinstance(out, Path) and isinstance(rerun, subprocess.CompletedProcess)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "resuming the run in" in rerun.stdout
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    keys = Counter((r["model"], r["sample_id"], r["epoch"]) for r in rows)
    assert len(rows) == SAMPLES and max(keys.values()) == 1
    assert all(r["outcome"] == "clean" for r in rows)
    # One log per eval: the interrupted one was taken over, so a rebuild counts
    # each sample once too.
    [log_file] = list((out / "logs").rglob("*.eval"))
    assert len(rows_from_log_dir(out / "logs")) == SAMPLES
    log = read_eval_log(str(log_file))
    assert log.status == "success"
    samples = log.samples or []
    assert len(samples) == SAMPLES == len({(s.id, s.epoch) for s in samples})


def test_samples_finished_before_the_kill_are_not_rerun(resumed: dict[str, object]) -> None:
    out, before = resumed["out"], resumed["before"]
    assert isinstance(out, Path) and isinstance(before, dict)
    [log_file] = list((out / "logs").rglob("*.eval"))
    after = {
        (s.id, s.epoch): (s.uuid, s.completed_at) for s in read_eval_log(log_file).samples or []
    }
    assert {key: after[key] for key in before} == before


def test_rerun_with_other_settings_is_one_line_error(
    resumed: dict[str, object], tmp_path: Path
) -> None:
    out = resumed["out"]
    assert isinstance(out, Path)
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    result = tripwire(*ARGS, "--conditions", "strong", "--out", str(copy))
    assert result.returncode == 2, result.stdout + result.stderr
    # Beside the announcement that the run directory is being resumed, one line.
    lines = result.stderr.strip().splitlines()
    [line] = [x for x in lines if not x.startswith("resuming the run in")]
    assert "holds logs of a run with other settings" in line and "--out" in line
    assert (copy / "results.jsonl").read_bytes() == (out / "results.jsonl").read_bytes()


def mount_tmpfs(mount: Path, size: str, *options: str) -> None:
    """Mount (or remount) a tmpfs; skip when this machine does not let us."""
    mount.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([*options, f"size={size}"]), "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root and mount rights): {done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs, unmounted after the test."""
    mount = tmp_path / "disk"
    mount_tmpfs(mount, "16m")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> None:
    with (disk / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 20))
                handle.flush()
        except OSError as ex:
            assert ex.errno == errno.ENOSPC


def test_full_disk_is_one_line_error_and_keeps_earlier_files(
    resumed: dict[str, object], small_disk: Path
) -> None:
    out = resumed["out"]
    assert isinstance(out, Path)
    run = small_disk / "run"
    shutil.copytree(out, run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    fill(small_disk)
    result = tripwire("report", str(run))
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "No space left on device" in line and "unchanged" in line
    after = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before
    (small_disk / "filler").unlink()
    rebuilt = CliRunner().invoke(app, ["report", str(run)])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert len((run / "results.jsonl").read_text().splitlines()) == SAMPLES


@pytest.mark.slow
def test_disk_full_mid_run_is_reported_and_resumes_once_there_is_room(small_disk: Path) -> None:
    mount_tmpfs(small_disk, "200k", "remount")  # too small for the log of 20 samples
    out = small_disk / "run"
    full = tripwire(*ARGS, "--out", str(out))
    assert full.returncode == 1, full.stdout + full.stderr
    assert "Traceback" not in full.stdout + full.stderr
    assert "could not be written to the end" in " ".join(full.stdout.split())
    mount_tmpfs(small_disk, "16m", "remount")
    again = tripwire(*ARGS, "--out", str(out))
    assert again.returncode == 0, again.stdout + again.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == SAMPLES == len({(r["sample_id"], r["epoch"]) for r in rows})
    [log_file] = list((out / "logs").rglob("*.eval"))
    assert len(read_eval_log(str(log_file)).samples or []) == SAMPLES


def test_staged_files_leave_the_old_ones_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "results.jsonl").write_text("old\n")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space left"), staged_files(tmp_path) as staging:
        (staging / "results.jsonl").write_text("new\n")
        (staging / "results.csv").write_text("new\n")
    assert (tmp_path / "results.jsonl").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]
