"""scripts/with-devchain.sh: the two demo chains beside a command in demo mode, deployed, stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from fuzzydice.chain.devchain import ROOT, free_port, rpc_chain_id, start_anvil
from fuzzydice.chain.networks import DEMO_TOKENS, MULTICALL3_ADDRESS, demo_token_address

SCRIPT = ROOT / "scripts" / "with-devchain.sh"
CHAIN_IDS = (31337, 31338)


def wrapper_env(ports: tuple[int, int], mode: str = "demo") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUZZYDICE_DEVCHAIN", "FUZZYDICE_CHAINS"))}
    return env | {
        "FUZZYDICE_MODE": mode,
        "FUZZYDICE_DEVCHAIN_PORT": str(ports[0]),
        "FUZZYDICE_DEVCHAIN_L2_PORT": str(ports[1]),
    }


def two_ports() -> tuple[int, int]:
    first = free_port()
    while (second := free_port()) == first:
        pass
    return first, second


def pid_file(port: int):
    return ROOT / ".devchain" / f"anvil-{port}.pid"


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


PROBE = """
import json, os, sys
from web3 import HTTPProvider, Web3
from fuzzydice.chain.devchain import rpc_chain_id
ports = [int(p) for p in sys.argv[1:]]
report = {"chains_env": json.loads(os.environ.get("FUZZYDICE_CHAINS", "null")), "chains": []}
for port in ports:
    w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}"))
    pid = open(f".devchain/anvil-{port}.pid").read().split()[0] if os.path.exists(f".devchain/anvil-{port}.pid") else None
    report["chains"].append({
        "chain_id": rpc_chain_id(f"http://127.0.0.1:{port}"),
        "pid": pid and int(pid),
        "code": {a: len(w3.eth.get_code(a)) for a in os.environ["PROBE_ADDRESSES"].split(",")},
    })
print(json.dumps(report))
sys.exit(3)
"""


def probe_command(ports: tuple[int, int]) -> list[str]:
    """A CMD that reports, as JSON, each chain's id, recorded PID and code at the demo addresses; exits 3."""
    return [sys.executable, "-c", PROBE, *map(str, ports)]


def probe_env(ports: tuple[int, int]) -> dict[str, str]:
    addresses = [demo_token_address(i) for i in range(len(DEMO_TOKENS))] + [MULTICALL3_ADDRESS]
    return wrapper_env(ports) | {"PROBE_ADDRESSES": ",".join(addresses)}


def run_probe(ports: tuple[int, int]) -> tuple[subprocess.CompletedProcess, dict]:
    result = subprocess.run(
        ["bash", str(SCRIPT), *probe_command(ports)],
        cwd=ROOT, env=probe_env(ports), capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 3, result.stderr  # the command's exit code
    return result, json.loads(result.stdout)


def test_demo_mode_runs_the_command_beside_both_deployed_chains_and_stops_them() -> None:
    ports = two_ports()
    _, report = run_probe(ports)
    assert [chain["chain_id"] for chain in report["chains"]] == list(CHAIN_IDS)
    for chain in report["chains"]:
        assert chain["code"] and all(size > 0 for size in chain["code"].values())  # tokens and multicall
        assert not pid_alive(chain["pid"])
    # ports other than the settings' defaults: the command is told where the chains are
    assert report["chains_env"] == {str(cid): f"http://127.0.0.1:{port}" for cid, port in zip(CHAIN_IDS, ports)}
    for port in ports:
        assert rpc_chain_id(f"http://127.0.0.1:{port}", timeout=0.5) is None
        assert not pid_file(port).exists()


def test_other_modes_run_the_command_alone() -> None:
    ports = two_ports()
    code = (
        "import sys; from fuzzydice.chain.devchain import rpc_chain_id;"
        "print([rpc_chain_id(f'http://127.0.0.1:{p}') for p in sys.argv[1:]])"
    )
    result = subprocess.run(
        ["bash", str(SCRIPT), sys.executable, "-c", code, *map(str, ports)],
        cwd=ROOT, env=wrapper_env(ports, mode="production"), capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[None, None]"


def test_a_chain_already_running_is_deployed_and_left_running() -> None:
    ports = two_ports()
    theirs = start_anvil(chain_id=CHAIN_IDS[0], port=ports[0])  # someone else's L1 (no PID file of ours)
    try:
        result, report = run_probe(ports)
        assert "not started here, not stopped here" in result.stderr
        l1, l2 = report["chains"]
        assert l1["chain_id"] == CHAIN_IDS[0] and l1["pid"] is None
        assert all(size > 0 for size in l1["code"].values())  # deployed all the same
        assert theirs.process.poll() is None and rpc_chain_id(theirs.url) == CHAIN_IDS[0]
        assert not pid_alive(l2["pid"])  # the one the script started is stopped
    finally:
        theirs.stop()


def test_a_chain_left_by_a_killed_wrapper_is_adopted_and_stopped() -> None:
    ports = two_ports()
    left = start_anvil(chain_id=CHAIN_IDS[1], port=ports[1])
    dead_wrapper = subprocess.Popen(["true"])
    dead_wrapper.wait()
    pid_file(ports[1]).parent.mkdir(exist_ok=True)
    pid_file(ports[1]).write_text(f"{left.pid} {dead_wrapper.pid}\n")
    try:
        result, report = run_probe(ports)
        assert f"adopting anvil PID {left.pid}" in result.stderr
        assert report["chains"][1]["pid"] == left.pid
        assert left.process.wait(timeout=10) is not None  # stopped by the script at exit
        assert not pid_file(ports[1]).exists()
    finally:
        left.stop()
        pid_file(ports[1]).unlink(missing_ok=True)


def test_a_foreign_chain_id_on_a_port_stops_before_the_command() -> None:
    ports = two_ports()
    foreign = start_anvil(chain_id=1, port=ports[1])
    try:
        result = subprocess.run(
            ["bash", str(SCRIPT), *probe_command(ports)],
            cwd=ROOT, env=probe_env(ports), capture_output=True, text=True, timeout=90,
        )
        assert result.returncode == 1, result.stderr
        assert "answers chain id 1, not 31338" in result.stderr
        assert result.stdout == ""  # the command never ran
        assert rpc_chain_id(f"http://127.0.0.1:{ports[0]}", timeout=0.5) is None  # the L1 it started is stopped
        assert foreign.process.poll() is None
    finally:
        foreign.stop()


def test_sigterm_to_the_wrapper_stops_the_command_and_both_chains() -> None:
    ports = two_ports()
    wrapper = subprocess.Popen(
        ["bash", str(SCRIPT), "sleep", "60"], cwd=ROOT, env=wrapper_env(ports),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30  # the chains answer and are deployed first, then the command starts
        while not (children := children_running(wrapper.pid, ["sleep", "60"])) and time.monotonic() < deadline:
            assert wrapper.poll() is None
            time.sleep(0.05)
        assert len(children) == 1
        assert [rpc_chain_id(f"http://127.0.0.1:{port}") for port in ports] == list(CHAIN_IDS)
        anvil_pids = [int(pid_file(port).read_text().split()[0]) for port in ports]
        wrapper.send_signal(signal.SIGTERM)
        assert wrapper.wait(timeout=20) == 143
        assert not any(pid_alive(pid) for pid in anvil_pids)
        assert not pid_alive(children[0])
    finally:
        if wrapper.poll() is None:
            os.killpg(wrapper.pid, signal.SIGKILL)  # the group this test started (anvils included)
            wrapper.wait(timeout=5)
        for port in ports:
            pid_file(port).unlink(missing_ok=True)
