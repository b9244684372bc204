"""A tiny JSON-RPC proxy in front of a real anvil: counts what the client asks, and can act as a capped provider.

It forwards every POST body to the upstream node unchanged and records each JSON-RPC
method (a batch counts each of its requests, and one HTTP request). Options make it behave
like a hosted provider: refuse `eth_getLogs` over more than `max_log_blocks` blocks (with the
JSON-RPC error providers send), drop `blockTimestamp` from logs (older nodes do not send it),
set it to something that is not a quantity (a broken node), or hold `eth_call`s at a barrier (to prove two chains are read at once). Bound to 127.0.0.1,
served by a thread, shut down by the context manager.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RpcProxy:
    """Forwards JSON-RPC to `upstream`; `url` is where the client should point."""

    def __init__(
        self,
        upstream: str,
        *,
        max_log_blocks: int | None = None,
        strip_log_timestamps: bool = False,
        garble_log_timestamps: bool = False,
        call_barrier: threading.Barrier | None = None,
    ) -> None:
        self.upstream = upstream
        self.max_log_blocks = max_log_blocks
        self.strip_log_timestamps = strip_log_timestamps
        self.garble_log_timestamps = garble_log_timestamps
        self.call_barrier = call_barrier
        self.methods: list[str] = []
        self.http_requests = 0
        self.log_ranges: list[tuple[int, int, bool]] = []
        """(fromBlock, toBlock, refused) of every eth_getLogs, in order."""
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = proxy._handle(json.loads(body))
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RpcProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def count(self, method: str) -> int:
        """How many `method` requests came in."""
        with self._lock:
            return Counter(self.methods)[method]

    def reset(self) -> None:
        """Forget what was recorded."""
        with self._lock:
            self.methods.clear()
            self.log_ranges.clear()
            self.http_requests = 0

    def _handle(self, payload: Any) -> Any:
        with self._lock:
            self.http_requests += 1
        if isinstance(payload, list):
            return [self._one(request) for request in payload]
        return self._one(payload)

    def _one(self, request: dict[str, Any]) -> dict[str, Any]:
        method = request.get("method", "")
        with self._lock:
            self.methods.append(method)
        if method == "eth_getLogs":
            params = request["params"][0]
            low, high = int(params["fromBlock"], 16), int(params["toBlock"], 16)
            refused = self.max_log_blocks is not None and high - low + 1 > self.max_log_blocks
            with self._lock:
                self.log_ranges.append((low, high, refused))
            if refused:
                message = f"block range too large: at most {self.max_log_blocks} blocks per request"
                return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": -32005, "message": message}}
        if method == "eth_call" and self.call_barrier is not None:
            try:
                self.call_barrier.wait(timeout=5)
            except threading.BrokenBarrierError:  # the other chain's call never came while this one waited
                return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": -32000, "message": "alone"}}
        answer = self._forward(request)
        if method == "eth_getLogs" and self.strip_log_timestamps and isinstance(answer.get("result"), list):
            for log in answer["result"]:
                log.pop("blockTimestamp", None)
        if method == "eth_getLogs" and self.garble_log_timestamps and isinstance(answer.get("result"), list):
            for log in answer["result"]:
                log["blockTimestamp"] = "0xnot-a-quantity"
        return answer

    def _forward(self, request: dict[str, Any]) -> dict[str, Any]:
        outgoing = urllib.request.Request(
            self.upstream, data=json.dumps(request).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(outgoing, timeout=10) as response:
            return json.loads(response.read())
