"""Security headers on every HTTP response of the app, and no Host header in redirects.

`security_headers` is an `api_transformer` of the Reflex app: in production the
compiled frontend is mounted into the backend before the transformers run, so
the wrapper covers pages, their static files, `/api` and Reflex's own routes.
(`reflex run --env dev` serves pages from Vite: those carry no headers.)

The Content-Security-Policy is the strictest the app satisfies (checked in
Chromium by tests/security/test_headers.py):

- every page the backend serves shares its origin with the websocket and the
  claim/logout forms, so `connect-src` and `form-action` are `'self'`;
- `rx.call_script` evaluates JS strings with `eval`: `'unsafe-eval'`;
- the prerendered HTML carries inline scripts (theme, React Router's context and
  module loader, React's streaming helpers): each HTML response allows exactly
  its own, by SHA-256 hash, instead of `'unsafe-inline'`;
- emotion and Radix put `<style>` elements and `style` attributes in the HTML
  and inject more at run time: `style-src 'unsafe-inline'`;
- QR codes and wallet icons are `data:` images; the logo and the favicon are the site's own files
  (`assets/`): `img-src 'self' data:` (the app has no font or manifest: `default-src 'none'` covers those).
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import logging
import zlib
from collections.abc import Callable, Iterable
from html.parser import HTMLParser

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fuzzydice.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CSP_DIRECTIVES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("default-src", ("'none'",)),
    ("script-src", ("'self'", "'unsafe-eval'")),
    ("style-src", ("'self'", "'unsafe-inline'")),
    ("img-src", ("'self'", "data:")),
    ("connect-src", ("'self'",)),
    ("form-action", ("'self'",)),
    ("frame-ancestors", ("'none'",)),
    ("base-uri", ("'none'",)),
    ("object-src", ("'none'",)),
)

STATIC_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    # Not `no-referrer`: that makes browsers send `Origin: null` on the claim/logout form POSTs.
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
)

_CONDITIONAL_REQUEST_HEADERS = {b"if-none-match", b"if-modified-since"}
_VALIDATOR_HEADERS = {b"etag", b"last-modified"}


def content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The CSP header value; `script_hashes` are base64 SHA-256 digests of inline scripts to allow."""
    parts = []
    for name, sources in CSP_DIRECTIVES:
        if name == "script-src":
            sources = (*sources, *(f"'sha256-{digest}'" for digest in script_hashes))
        parts.append(f"{name} {' '.join(sources)}")
    return "; ".join(parts)


def hsts_value(settings: Settings, scheme: str) -> str | None:
    """The Strict-Transport-Security value, or None: only over https or with Secure cookies forced on."""
    if not settings.hsts or not (scheme in ("https", "wss") or settings.secure_cookies is True):
        return None
    return f"max-age={int(settings.hsts_max_age.total_seconds())}"


class _InlineScripts(HTMLParser):
    """Collects the text of every inline `<script>` (the parser keeps script text raw)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> list[str]:
    """Base64 SHA-256 of each distinct inline script of `html`, as browsers hash them (newlines normalized)."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    digests: dict[str, None] = {}
    for text in parser.scripts:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        digests[base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")] = None
    return list(digests)


def _decoded(body: bytes, encoding: str) -> bytes | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return None


def _host_prefixes(scope: Scope) -> list[str]:
    host = next((value for name, value in scope.get("headers", ()) if name == b"host"), None)
    if not host:
        return []
    host_text = host.decode("latin-1").lower()
    return [f"{scheme}://{host_text}" for scheme in ("http", "https")]


def same_origin_location(location: str, prefixes: list[str]) -> str:
    """`location` with a leading `scheme://<request Host>` removed, as a path that cannot leave the site.

    Starlette builds absolute redirect URLs from the request's Host header (the
    static files' trailing-slash redirect, `redirect_slashes`); a forged Host
    would otherwise come back in `Location`. Leading slashes are collapsed so
    the relative form is never protocol-relative (`//evil.example/...`).
    """
    lowered = location.lower()
    for prefix in prefixes:
        rest = location[len(prefix):]
        if lowered.startswith(prefix) and (rest == "" or rest[0] in "/?#\\"):
            return "/" + rest.lstrip("/\\")
    return location


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: adds the headers, hashes inline scripts of HTML, keeps Host out of redirects."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings] = get_settings) -> None:
        self.app = app
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _is_navigation(scope):
            # HTML responses carry no validators (below); an older cached copy must not come back as a 304
            # whose CSP lacks its script hashes.
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k not in _CONDITIONAL_REQUEST_HEADERS]}
        settings = self._settings()
        hsts = hsts_value(settings, scope.get("scheme", "http"))
        prefixes = _host_prefixes(scope)
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if prefixes:
                    headers = [
                        (k, same_origin_location(v.decode("latin-1"), prefixes).encode("latin-1")) if k.lower() == b"location" else (k, v)
                        for k, v in headers
                    ]
                message = {**message, "headers": headers}
                if _content_type(headers).startswith("text/html"):
                    held = message  # sent with the body: its CSP names the body's inline scripts
                    return
                await send(_with_headers(message, content_security_policy(), hsts))
                return
            if message["type"] == "http.response.pathsend" and held is not None:
                # Granian (the production server) lets FileResponse hand it the file's path instead of the body.
                chunks.append(await anyio.Path(message["path"]).read_bytes())
                message = {"type": "http.response.body", "body": b""}
            if message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                start = _without_validators(held)
                held = None
                await send(_with_headers(start, content_security_policy(_script_hashes(start, body)), hsts))
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)


def security_headers(app: ASGIApp) -> ASGIApp:
    """The `api_transformer` form: wrap the whole backend app."""
    return SecurityHeadersMiddleware(app)


def _is_navigation(scope: Scope) -> bool:
    headers = dict(scope.get("headers", ()))
    return headers.get(b"sec-fetch-mode") == b"navigate" or headers.get(b"accept", b"").startswith(b"text/html")


def _content_type(headers: list[tuple[bytes, bytes]]) -> str:
    return next((v.decode("latin-1").lower() for k, v in headers if k.lower() == b"content-type"), "")


def _without_validators(message: Message) -> Message:
    return {**message, "headers": [(k, v) for k, v in message["headers"] if k.lower() not in _VALIDATOR_HEADERS]}


def _script_hashes(start: Message, body: bytes) -> tuple[str, ...]:
    encoding = next((v.decode("latin-1") for k, v in start["headers"] if k.lower() == b"content-encoding"), "")
    return _hashes_of_body(encoding, body)


@functools.lru_cache(maxsize=128)
def _hashes_of_body(encoding: str, body: bytes) -> tuple[str, ...]:
    """The script hashes of one page body; the pages are static files, so each is decoded and parsed once."""
    try:
        raw = _decoded(body, encoding)
    except (OSError, EOFError, zlib.error):
        raw = None
    if raw is None:
        logger.warning("inline scripts of an HTML response (%s) not hashed: the page's scripts stay blocked", encoding)
        return ()
    return tuple(inline_script_hashes(raw.decode("utf-8", errors="replace")))


def _with_headers(message: Message, csp: str, hsts: str | None) -> Message:
    headers = list(message.get("headers", ()))
    present = {k.lower() for k, _ in headers}
    extra = [("content-security-policy", csp), *STATIC_HEADERS]
    if hsts:
        extra.append(("strict-transport-security", hsts))
    for name, value in extra:
        if name.encode() not in present:
            headers.append((name.encode(), value.encode("latin-1")))
    return {**message, "headers": headers}
