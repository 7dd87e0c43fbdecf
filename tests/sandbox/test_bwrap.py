"""The bwrap sandbox isolates each sample: no network, own pids, own files, limits."""

import asyncio
import contextlib
import os
from pathlib import Path

import pytest
from inspect_ai.util import SandboxUserUnsupportedError

from tripwire._errors import BwrapNotFoundError, ConfigError, SandboxError
from tripwire.sandbox import BwrapConfig, BwrapSandboxEnvironment, SampleTree, bwrap_sandbox
from tripwire.sandbox._bwrap import _resolve_config


def sh(env, script, **kwargs):
    return env.exec(["bash", "-c", script], **kwargs)


def host_processes_matching(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


async def test_files_persist_between_commands_and_map_to_the_workdir():
    async with bwrap_sandbox() as env:
        await env.write_file("project/notes.txt", "first\n")
        result = await sh(
            env, "pwd; id -un; cat project/notes.txt; echo second >> project/notes.txt"
        )
        assert result.success, result.stderr
        assert result.stdout == "/home/agent\nagent\nfirst\n"
        assert await env.read_file("/home/agent/project/notes.txt") == "first\nsecond\n"
        assert (env.tree.workdir / "project" / "notes.txt").read_text() == "first\nsecond\n"


async def test_no_network_only_loopback():
    async with bwrap_sandbox() as env:
        result = await env.exec(
            ["python3", "-c", "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)"]
        )
        assert not result.success
        assert "unreachable" in result.stderr.lower()
        interfaces = await sh(env, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
        assert interfaces.stdout.split() == ["lo"]


async def test_cannot_write_outside_its_tree(tmp_path):
    outside = tmp_path / "host_file.txt"
    outside.write_text("untouched")
    async with bwrap_sandbox() as env:
        result = await sh(
            env,
            f"echo x > {outside}; echo x > /usr/evil; echo x > /etc/passwd; touch /evil; "
            f"ls {tmp_path}; echo done",
        )
        assert result.stdout.strip() == "done"
        assert result.stderr.count("Read-only file system") >= 3
        assert "No such file or directory" in result.stderr
    assert outside.read_text() == "untouched"
    assert not Path("/usr/evil").exists() and not Path("/evil").exists()


async def test_host_files_are_invisible():
    async with bwrap_sandbox() as env:
        result = await sh(env, "ls /root /work /opt 2>&1; cat /etc/shadow 2>&1; ls /etc")
        assert "No such file or directory" in result.stdout
        assert set(result.stdout.split()) >= {"passwd", "group", "hosts"}
        assert "shadow" not in (await sh(env, "ls /etc")).stdout


async def test_own_pid_namespace():
    async with bwrap_sandbox() as env:
        result = await sh(env, "ls /proc | grep -c '^[0-9]'")
        assert int(result.stdout) < 10
        init = await sh(env, "tr '\\0' ' ' < /proc/1/cmdline")
        assert init.stdout.split()[0].endswith("bwrap")


async def test_timeout_kills_the_whole_sandbox():
    async with bwrap_sandbox() as env:
        with pytest.raises(TimeoutError):
            await sh(env, "sleep 3141 & sleep 2718", timeout=1)
    assert host_processes_matching("3141") == []
    assert host_processes_matching("2718") == []


async def test_background_processes_do_not_outlive_their_command():
    async with bwrap_sandbox() as env:
        result = await sh(env, "(setsid sleep 1618 &) ; echo started")
        assert result.stdout == "started\n"
    assert host_processes_matching("sleep\x001618") == []


async def test_file_size_limit():
    async with bwrap_sandbox(BwrapConfig(max_file_bytes=1024**2)) as env:
        result = await sh(env, "head -c 20000000 /dev/zero > big; echo rc=$?")
        assert "rc=0" not in result.stdout
        assert (env.tree.workdir / "big").stat().st_size <= 1024**2


async def test_memory_limit():
    async with bwrap_sandbox(BwrapConfig(memory_bytes=256 * 1024**2)) as env:
        result = await env.exec(["python3", "-c", "x = bytearray(600 * 1024**2)"])
        assert not result.success
        assert "MemoryError" in result.stderr


async def test_process_limit_stops_a_fork_bomb():
    script = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 200:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(2); os._exit(0)\n"
        "        n += 1\n"
        "except OSError:\n"
        "    pass\n"
        "print(n)\n"
    )
    async with bwrap_sandbox(BwrapConfig(max_processes=16)) as env:
        result = await env.exec(["python3", "-c", script], timeout=30)
        assert result.success, result.stderr
        assert int(result.stdout) < 200


async def test_harness_reads_never_follow_symlinks_to_the_host(tmp_path):
    secret = tmp_path / "host_secret.txt"
    secret.write_text("host secret")
    async with bwrap_sandbox() as env:
        await sh(env, f"ln -s {secret} leak; ln -s /etc/hostname hostname_link")
        with pytest.raises(FileNotFoundError):
            await env.read_file("leak")
        # A link inside the sandbox resolves inside the sandbox.
        assert await env.read_file("hostname_link") == "sandbox\n"
        # Writing through the link targets the sandbox's (missing) path, never the host's.
        with pytest.raises(FileNotFoundError):
            await env.write_file("leak", "written through the link")
    assert secret.read_text() == "host secret"


async def test_read_file_errors():
    async with bwrap_sandbox() as env:
        await sh(env, "mkdir adir")
        with pytest.raises(FileNotFoundError):
            await env.read_file("missing.txt")
        with pytest.raises(IsADirectoryError):
            await env.read_file("adir")
        with pytest.raises(PermissionError):
            await env.write_file("/usr/bin/evil", "x")
        assert (await env.read_file("/etc/hostname")) == "sandbox\n"


async def test_readonly_and_hidden_paths():
    config = BwrapConfig(readonly_paths=("policy.yaml",), hidden_paths=("grader",))
    async with bwrap_sandbox(config) as env:
        await env.write_file("policy.yaml", "rule: 1\n")
        await env.write_file("grader/answers.txt", "42\n")
        result = await sh(
            env,
            "echo 'rule: 0' > policy.yaml; rm -f policy.yaml; ls grader; cat grader/answers.txt",
        )
        assert "Read-only file system" in result.stderr
        assert "42" not in result.stdout
        assert await env.read_file("policy.yaml") == "rule: 1\n"
        assert await env.read_file("grader/answers.txt") == "42\n"


async def test_cleanup_removes_unreadable_tree():
    async with bwrap_sandbox() as env:
        await sh(env, "mkdir -p d/e && touch d/e/f && chmod 000 d/e d")
        root = env.tree.root
    assert not root.exists()


async def test_cleanup_twice_leaves_the_parent_alone():
    async with bwrap_sandbox() as env:
        parent = env.tree.root.parent
        mode = parent.stat().st_mode
        env.tree.cleanup()
    assert parent.stat().st_mode == mode


async def test_root_user_and_unknown_user():
    async with bwrap_sandbox() as env:
        assert (await env.exec(["id", "-u"], user="root")).stdout == "0\n"
        with pytest.raises(SandboxUserUnsupportedError):
            await env.exec(["id"], user="postgres")


async def test_vanished_tree_is_a_sandbox_error_not_a_result():
    async with bwrap_sandbox() as env:
        env.tree.cleanup()
        with pytest.raises(SandboxError):
            await env.exec(["true"])


async def test_missing_bwrap_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BwrapNotFoundError, match="apt-get install -y bubblewrap"):
        await BwrapSandboxEnvironment.sample_init("t", None, {})


def test_config_from_yaml_and_bad_config(tmp_path):
    good = tmp_path / "bwrap.yaml"
    good.write_text("max_processes: 32\nreadonly_paths: [policy.yaml]\n")
    assert _resolve_config(str(good)).max_processes == 32
    bad = tmp_path / "bad.yaml"
    bad.write_text("workdir: relative/dir\n")
    with pytest.raises(ConfigError, match="absolute"):
        _resolve_config(str(bad))
    with pytest.raises(ConfigError):
        _resolve_config(str(tmp_path / "missing.yaml"))


@pytest.mark.skipif(os.geteuid() != 0, reason="per-sample host uids need root")
async def test_commands_run_as_an_unprivileged_host_uid():
    async with bwrap_sandbox() as env:
        result = await sh(env, "sleep 1 & cat /proc/self/status | grep Uid; wait")
        assert result.success
        assert env.tree.host_uid is not None and env.tree.host_uid >= 1_500_000_000
        assert env.tree.workdir.stat().st_uid == env.tree.host_uid


async def test_dev_is_read_only_and_dev_shm_is_the_samples_own():
    async with bwrap_sandbox(BwrapConfig(disk_bytes=8 * 1024 * 1024)) as env:
        result = await sh(env, "echo x > /dev/evil; echo ok > /dev/shm/f && cat /dev/shm/f")
        assert "Read-only file system" in result.stderr
        assert result.stdout == "ok\n"
        assert (env.tree.shm / "f").read_text() == "ok\n"
        if env.tree.disk_quota:  # root: /dev/shm is inside the sample's 8 MiB
            full = await sh(env, "head -c 20M /dev/zero > /dev/shm/big")
            assert "No space left on device" in full.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the per-sample tmpfs needs root")
def test_a_tree_that_cannot_be_built_leaves_no_mount_or_cgroup():
    before = Path("/proc/self/mounts").read_text().count("tripwire-bwrap-")
    with pytest.raises(SandboxError, match="cannot build the sample's sandbox tree"):
        # Three inodes cannot hold the workdir, /tmp, /var/tmp and /dev/shm.
        SampleTree(BwrapConfig(max_files=3, remote_hosts=("a",)))
    assert Path("/proc/self/mounts").read_text().count("tripwire-bwrap-") == before


@pytest.mark.skipif(os.geteuid() != 0, reason="the per-sample tmpfs and cgroup need root")
def test_a_killed_runs_tmpfs_and_cgroup_are_swept_by_the_next():
    import subprocess
    import sys

    from tripwire.sandbox._quota import sweep_stale

    # A process that makes a tree, reports it, and is then killed with SIGKILL.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from tripwire.sandbox import SampleTree, BwrapConfig; "
            "t = SampleTree(BwrapConfig()); "
            "print(t.root, t.memory_cgroup.path if t.memory_cgroup else '', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    root, _, cgroup = child.stdout.readline().strip().partition(" ")
    child.kill()
    child.wait()
    assert root in Path("/proc/self/mounts").read_text()
    sweep_stale.cache_clear()
    assert sweep_stale() >= 1
    assert root not in Path("/proc/self/mounts").read_text()
    assert not Path(root).exists()
    if cgroup:
        assert not Path(cgroup).exists()


async def test_harness_io_holds_while_the_agent_swaps_directories_for_symlinks(tmp_path):
    # The agent swaps `d` and `e` between directories and links to host paths while the
    # harness reads and writes through them: never a host file, whatever the timing.
    target = tmp_path / "target"
    target.mkdir()
    target.chmod(0o777)
    secret = tmp_path / "host_secret.txt"
    secret.write_text("host secret\n")
    secret.chmod(0o644)
    swap = (
        "cd /home/agent; end=$(($(date +%s)+8)); while [ $(date +%s) -lt $end ]; do "
        f"mkdir d; rm -rf d; ln -s {target} d; rm d; mkdir e; rm -rf e; ln -s {tmp_path} e; rm e; "
        "done 2>/dev/null"
    )
    async with bwrap_sandbox() as env:
        swapping = asyncio.create_task(env.exec(["sh", "-c", swap], timeout=30))
        await asyncio.sleep(0.5)
        seen = []
        for _ in range(400):
            with contextlib.suppress(OSError, SandboxError):
                await env.write_file("/home/agent/d/pwned", "x")
            with contextlib.suppress(OSError, SandboxError):
                seen.append(await env.read_file("/home/agent/e/host_secret.txt"))
        await swapping
    assert not (target / "pwned").exists()
    assert "host secret\n" not in seen
