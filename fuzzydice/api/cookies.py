"""Names and attributes of the session cookies."""

from __future__ import annotations

from starlette.requests import cookie_parser

from fuzzydice.settings import Settings

HOST_PREFIX = "__Host-"


def use_secure(settings: Settings, scheme: str) -> bool:
    """Whether cookies get the Secure attribute (explicit setting, else the request scheme)."""
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return scheme == "https"


def session_cookie_name(settings: Settings, secure: bool) -> str:
    """`__Host-` prefixed name over https (Secure, Path=/, no Domain), plain name otherwise."""
    return f"{HOST_PREFIX}{settings.session_cookie_name}" if secure else settings.session_cookie_name


def session_token_from_header(settings: Settings, cookie_header: str | None) -> str | None:
    """The session token in a raw Cookie header, preferring the `__Host-` form.

    Parsed like `request.cookies` (Starlette's lenient parser): `SimpleCookie` drops
    the whole header when any other cookie holds a space, a quote or non-ASCII.
    """
    if not cookie_header:
        return None
    return session_token_from_cookies(settings, cookie_parser(cookie_header))


def session_token_from_cookies(settings: Settings, cookies: dict[str, str]) -> str | None:
    """The session token in parsed request cookies, preferring the `__Host-` form."""
    hosted = cookies.get(f"{HOST_PREFIX}{settings.session_cookie_name}")
    return hosted or cookies.get(settings.session_cookie_name) or None
