"""scripts/with-devchain.sh: anvil beside a command in demo mode, stopped by PID however the command ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from fuzzydice.chain.devchain import ROOT, free_port, rpc_chain_id

SCRIPT = ROOT / "scripts" / "with-devchain.sh"


def wrapper_env(port: int, mode: str = "demo") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUZZYDICE_DEVCHAIN")}
    return env | {"FUZZYDICE_MODE": mode, "FUZZYDICE_DEVCHAIN_PORT": str(port)}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def children_running(parent: int, argv: list[str]) -> list[int]:
    """PIDs of the children of `parent` whose command line is exactly `argv` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")[:-1]
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == parent and [part.decode() for part in cmdline] == argv:
            found.append(int(entry))
    return found


def probe_command(port: int) -> list[str]:
    """A CMD that prints the chain id answering on `port` and the recorded anvil PID."""
    code = (
        "import sys; from fuzzydice.chain.devchain import rpc_chain_id;"
        f"print(rpc_chain_id('http://127.0.0.1:{port}'));"
        f"print(open('.devchain/anvil-{port}.pid').read().split()[0]); sys.exit(3)"
    )
    return [sys.executable, "-c", code]


def test_demo_mode_runs_the_command_beside_anvil_and_stops_it() -> None:
    port = free_port()
    result = subprocess.run(
        ["bash", str(SCRIPT), *probe_command(port)],
        cwd=ROOT, env=wrapper_env(port), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 3, result.stderr  # the command's exit code
    chain_id, anvil_pid = result.stdout.split()
    assert chain_id == "31337"
    assert not pid_alive(int(anvil_pid))
    assert rpc_chain_id(f"http://127.0.0.1:{port}", timeout=0.5) is None
    assert not (ROOT / ".devchain" / f"anvil-{port}.pid").exists()


def test_other_modes_run_the_command_alone() -> None:
    port = free_port()
    code = f"from fuzzydice.chain.devchain import rpc_chain_id; print(rpc_chain_id('http://127.0.0.1:{port}'))"
    result = subprocess.run(
        ["bash", str(SCRIPT), sys.executable, "-c", code],
        cwd=ROOT, env=wrapper_env(port, mode="production"), capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"


def test_sigterm_to_the_wrapper_stops_the_command_and_anvil() -> None:
    port = free_port()
    pid_file = ROOT / ".devchain" / f"anvil-{port}.pid"
    wrapper = subprocess.Popen(
        ["bash", str(SCRIPT), "sleep", "60"], cwd=ROOT, env=wrapper_env(port),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15  # anvil answers first, then the command starts
        while not (children := children_running(wrapper.pid, ["sleep", "60"])) and time.monotonic() < deadline:
            assert wrapper.poll() is None
            time.sleep(0.05)
        assert len(children) == 1
        assert rpc_chain_id(f"http://127.0.0.1:{port}") == 31337
        anvil_pid = int(pid_file.read_text().split()[0])
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=15) == 143
        assert not pid_alive(anvil_pid)
        assert not pid_alive(children[0])
    finally:
        if wrapper.poll() is None:
            os.killpg(wrapper.pid, signal.SIGKILL)  # the group this test started (anvil included)
            wrapper.wait(timeout=5)
        pid_file.unlink(missing_ok=True)
