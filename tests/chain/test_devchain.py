"""Dev chains: anvil is project-local, starts on loopback with the chain id asked for, and stops by PID."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from fuzzydice.chain.devchain import (
    ROOT,
    DevChainError,
    anvil_binary,
    free_port,
    port_is_free,
    rpc_chain_id,
    start_anvil,
)


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID still exists (a reaped child does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_binary_is_the_real_executable_under_tools() -> None:
    path = anvil_binary()
    assert path.is_relative_to(ROOT / ".tools")
    assert path.read_bytes()[:4] == b"\x7fELF" or sys.platform != "linux"  # not the node shim
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10, check=True)
    assert out.stdout.startswith("anvil Version:")


def test_session_chain_answers_on_loopback(anvil) -> None:
    assert anvil.url.startswith("http://127.0.0.1:")
    assert anvil.chain_id == 31337
    assert rpc_chain_id(anvil.url) == 31337
    assert anvil.process.pid == anvil.pid


def test_start_with_chain_id_then_stop_leaves_no_process() -> None:
    chain = start_anvil(chain_id=4242)
    try:
        assert rpc_chain_id(chain.url) == 4242
        assert pid_alive(chain.pid)
    finally:
        chain.stop()
    assert chain.process.returncode is not None
    assert not pid_alive(chain.pid)
    assert rpc_chain_id(chain.url, timeout=0.5) is None
    chain.stop()  # a second stop is harmless


def test_two_chains_at_once_answer_their_own_chain_id() -> None:
    with start_anvil(chain_id=31337) as l1, start_anvil(chain_id=8453) as l2:
        assert l1.url != l2.url
        assert rpc_chain_id(l1.url) == 31337
        assert rpc_chain_id(l2.url) == 8453
    assert not pid_alive(l1.pid) and not pid_alive(l2.pid)


def test_requested_port_is_used() -> None:
    port = free_port()
    with start_anvil(port=port) as chain:
        assert chain.url == f"http://127.0.0.1:{port}"
        assert not port_is_free("127.0.0.1", port)
    assert port_is_free("127.0.0.1", port)


def test_taken_port_is_refused_without_touching_the_running_chain(anvil) -> None:
    port = int(anvil.url.rsplit(":", 1)[1])
    started = time.monotonic()
    with pytest.raises(DevChainError, match="already in use"):
        start_anvil(port=port, chain_id=31337)
    assert time.monotonic() - started < 2
    assert rpc_chain_id(anvil.url) == 31337


def test_foreground_entry_becomes_anvil_with_the_same_pid() -> None:
    """`python -m fuzzydice.chain.devchain` execs anvil, so the wrapper's `$!` is anvil itself."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fuzzydice.chain.devchain", "--port", str(port), "--chain-id", "8453"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while rpc_chain_id(url, timeout=0.5) is None and time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.05)
        assert rpc_chain_id(url) == 8453
        if sys.platform == "linux":
            assert os.readlink(f"/proc/{process.pid}/exe") == str(anvil_binary())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert not pid_alive(process.pid)
    assert process.stdout.read() == b""  # quiet
