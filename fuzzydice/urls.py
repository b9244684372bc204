"""URL helpers shared by the pages and the `/api` routes."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_local_path(candidate: str | None, default: str = "/") -> str:
    """Return `candidate` if it is a path on this site, else `default` (no open redirects)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or any(ord(ch) < 0x20 for ch in candidate):
        return default
    return candidate
