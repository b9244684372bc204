"""Local dev chains: start and stop anvil, the project-local binary from npm.

`scripts/bootstrap.sh` installs `@foundry-rs/anvil` into `.tools/`. Its
`.tools/node_modules/.bin/anvil` is a node shim that spawns the real binary as a
child, so stopping the shim's PID could leave anvil running; this module starts
the platform binary itself, whose PID is then the process to stop.

    python -m fuzzydice.chain.devchain --port 8545 --chain-id 31337

replaces itself with anvil (exec), so the caller's `$!` is anvil's PID;
`--probe` prints the chain id answering on --host/--port (exit 1: nothing does).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"

DEFAULT_CHAIN_ID = 31337
READY_TIMEOUT = 10.0  # seconds for anvil to answer eth_chainId (it usually takes ~0.1 s)
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL


class DevChainError(RuntimeError):
    """Anvil is missing, did not start, or answered with something unexpected."""


def _platform_package() -> str:
    """The npm package holding anvil for this OS and CPU, e.g. `anvil-linux-amd64`."""
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system(), "unknown")
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"anvil-{system}-{arch}"


def anvil_binary() -> Path:
    """Return the path of the real anvil executable under `.tools/`.

    Raises:
        DevChainError: when it is not installed (run `scripts/bootstrap.sh`).
    """
    name = "anvil.exe" if platform.system() == "Windows" else "anvil"
    scope = TOOLS / "node_modules" / "@foundry-rs"
    candidates = [
        scope / _platform_package() / "bin" / name,  # the optional dependency npm installs
        scope / "anvil" / name,  # where the package's postinstall downloads it otherwise
    ]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise DevChainError(f"anvil is not installed (looked at {looked}); run scripts/bootstrap.sh")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on `host` that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def rpc_chain_id(url: str, timeout: float = 1.0) -> int | None:
    """Ask `url` for `eth_chainId`; None when nothing answers there (or not JSON-RPC)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(json.loads(response.read())["result"], 16)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def anvil_command(*, port: int, chain_id: int, host: str = "127.0.0.1") -> list[str]:
    """The argv that runs anvil quietly on host:port with the given chain id."""
    return [str(anvil_binary()), "--host", host, "--port", str(port), "--chain-id", str(chain_id), "--quiet"]


@dataclass
class DevChain:
    """A running anvil process started by `start_anvil`."""

    url: str
    pid: int
    chain_id: int
    process: subprocess.Popen = field(repr=False)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Terminate anvil by its PID, wait for it, and kill it if it does not exit in time."""
        if self.process.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        else:
            self.process.wait()

    def __enter__(self) -> DevChain:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on host:port (so an anvil started there owns what answers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name == "posix":  # like anvil: TIME_WAIT leftovers do not block, a listener does
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _spawn(host: str, port: int, chain_id: int) -> tuple[subprocess.Popen | None, str]:
    """Start anvil and wait until it answers; return the process and "" or None and the problem."""
    url = f"http://{host}:{port}"
    if not port_is_free(host, port):
        return None, f"{host}:{port} is already in use"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            anvil_command(port=port, chain_id=chain_id, host=host),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                return None, log.read().decode(errors="replace").strip() or f"exit code {process.returncode}"
            answered = rpc_chain_id(url, timeout=0.5)
            if answered is not None:
                if answered != chain_id:  # someone else's node won the port
                    process.kill()
                    process.wait()
                    return None, f"{url} answered chain id {answered}, not {chain_id}"
                if process.poll() is None:
                    return process, ""
                continue  # ours exited (port taken by another node): reported above
            time.sleep(0.02)
        process.kill()
        process.wait()
        return None, f"no eth_chainId answer from {url} within {READY_TIMEOUT:.0f} s"


def start_anvil(*, chain_id: int = DEFAULT_CHAIN_ID, port: int | None = None, host: str = "127.0.0.1") -> DevChain:
    """Start anvil on host:port (a free port when None) and wait until it answers.

    Args:
        chain_id: the chain id anvil reports (31337 for the L1 stand-in, 8453 for an L2).
        port: the TCP port; None picks a free one (retried if another process takes it first).
        host: the address to bind; keep the default loopback address.

    Returns:
        The running chain; call `stop()` (or use it as a context manager) when done.

    Raises:
        DevChainError: anvil is missing or did not answer `eth_chainId` within ~10 s.
    """
    attempts = 3 if port is None else 1
    problem = ""
    for _ in range(attempts):
        chosen = free_port(host) if port is None else port
        process, problem = _spawn(host, chosen, chain_id)
        if process is not None:
            return DevChain(url=f"http://{host}:{chosen}", pid=process.pid, chain_id=chain_id, process=process)
    raise DevChainError(f"anvil did not start: {problem}")


def main(argv: list[str] | None = None) -> None:
    """Run anvil in the foreground (this process becomes anvil, keeping its PID)."""
    parser = argparse.ArgumentParser(prog="python -m fuzzydice.chain.devchain", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--print-binary", action="store_true", help="print the anvil path and exit")
    parser.add_argument(
        "--probe", action="store_true", help="print the chain id answering at host:port (exit 1 when none) and exit"
    )
    args = parser.parse_args(argv)
    if args.probe:
        answered = rpc_chain_id(f"http://{args.host}:{args.port}", timeout=1.0)
        if answered is None:
            sys.exit(1)
        print(answered)
        return
    try:
        if args.print_binary:
            print(anvil_binary())
            return
        command = anvil_command(port=args.port, chain_id=args.chain_id, host=args.host)
    except DevChainError as error:
        sys.exit(f"devchain: {error}")
    sys.stdout.flush()
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
