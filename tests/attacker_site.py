"""A page of another origin on the same site: a server on a free port of 127.0.0.1 (ports do not separate sites).

Cookies of 127.0.0.1 are the app's cookies for it, SameSite=Lax lets its top-level POSTs
carry them, and its script can write cookies for the host. The attack tests serve their
pages from here. Started and stopped by the tests (`with AttackerSite() as site:`).
"""

from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class AttackerSite:
    """Serves `pages` (path -> HTML) on 127.0.0.1 at `origin`."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "AttackerSite":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def page(self, path: str, body: str) -> str:
        """Serve `body` at `path`; returns its URL."""
        self.pages[path] = body
        return self.origin + path

    def auto_post(self, path: str, action: str, fields: dict[str, str], cookie: str = "") -> str:
        """A page that (optionally writes a cookie for the host and) submits a form to `action` on load."""
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        script = f"document.cookie={cookie!r};" if cookie else ""
        return self.page(
            path,
            f'<!doctype html><form id="f" method="POST" action="{html.escape(action)}">{inputs}</form>'
            f"<script>{script}document.getElementById('f').submit();</script>",
        )
