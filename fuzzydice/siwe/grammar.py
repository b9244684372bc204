"""Terminal rules of the EIP-4361 ABNF, written as checks on single field values.

The message grammar (EIP-4361 / ERC-4361) borrows its building blocks from
RFC 3986 (scheme, authority, URI, reserved, unreserved, pchar), RFC 5234
(ALPHA, DIGIT, HEXDIG) and RFC 3339 (date-time). Every pattern here is ASCII
only and is applied with `re.fullmatch`, so no field can smuggle a line break
or a non-ASCII look-alike character.

Deliberate narrowings of the ABNF (each keeps `to_text(parse(text)) == text`
or rejects something no honest producer emits):

* the host of `domain` must not be empty (RFC 3986 allows an empty reg-name);
* `chain-id` has no leading zeros (``01`` would not survive a round trip
  through an ``int``);
* `statement`, when present, is not empty;
* RFC 3339 leap seconds (``:60``) are rejected, as Python cannot represent them.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta, timezone

from eth_utils import to_checksum_address

_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_GEN_DELIMS = r":/?#\[\]@"
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"

SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_USERINFO_RE = re.compile(rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*")
_REG_NAME_RE = re.compile(rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*")
_IPV_FUTURE_RE = re.compile(rf"[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+")
_IPV6_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]+")
_PORT_RE = re.compile(r"[0-9]*")
_URI_RE = re.compile(
    rf"""
    [A-Za-z][A-Za-z0-9+\-.]* :                       # scheme ":"
    (?:
        // (?P<authority>[^/?\#]*) (?:/{_PCHAR}*)*    # "//" authority path-abempty
      | /(?:{_PCHAR}+(?:/{_PCHAR}*)*)?                # path-absolute
      | {_PCHAR}+(?:/{_PCHAR}*)*                      # path-rootless
      |                                               # path-empty
    )
    (?:\?(?:{_PCHAR}|[/?])*)?                         # [ "?" query ]
    (?:\#(?:{_PCHAR}|[/?])*)?                         # [ "#" fragment ]
    """,
    re.VERBOSE,
)
_STATEMENT_RE = re.compile(rf"[{_UNRESERVED}{_GEN_DELIMS}{_SUB_DELIMS} ]+")
_REQUEST_ID_RE = re.compile(rf"{_PCHAR}*")
_NONCE_RE = re.compile(r"[A-Za-z0-9]{8,}")
_CHAIN_ID_RE = re.compile(r"0|[1-9][0-9]*")
_ADDRESS_RE = re.compile(r"0x[0-9A-Fa-f]{40}")
_DATE_TIME_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"[Tt](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _is_host(host: str) -> bool:
    if host.startswith("["):
        if not host.endswith("]"):
            return False
        inner = host[1:-1]
        if _IPV_FUTURE_RE.fullmatch(inner):
            return True
        if not _IPV6_CHARS_RE.fullmatch(inner):  # also keeps out "%zone" ids, which RFC 3986 lacks
            return False
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            return False
        return True
    # IPv4address is a subset of reg-name, so reg-name alone decides the rest.
    return _REG_NAME_RE.fullmatch(host) is not None


def is_authority(text: str, *, require_host: bool = False) -> bool:
    """Whether `text` is an RFC 3986 ``authority`` (``[ userinfo "@" ] host [ ":" port ]``).

    Args:
        text: The candidate authority.
        require_host: Reject an empty host (EIP-4361 domains need one).

    Returns:
        True when `text` matches the RFC 3986 rule.
    """
    userinfo, at, hostport = text.rpartition("@")
    if at and _USERINFO_RE.fullmatch(userinfo) is None:
        return False
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return False
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if rest and not (rest.startswith(":") and _PORT_RE.fullmatch(rest[1:])):
            return False
    else:
        host, colon, port = hostport.partition(":")
        if colon and _PORT_RE.fullmatch(port) is None:
            return False
    if require_host and not host:
        return False
    return _is_host(host)


def is_scheme(text: str) -> bool:
    """Whether `text` is an RFC 3986 ``scheme``."""
    return SCHEME_RE.fullmatch(text) is not None


def is_uri(text: str) -> bool:
    """Whether `text` is an RFC 3986 ``URI`` (absolute, with optional query and fragment)."""
    match = _URI_RE.fullmatch(text)
    if match is None:
        return False
    authority = match.group("authority")
    return authority is None or is_authority(authority)


def is_statement(text: str) -> bool:
    """Whether `text` is a non-empty ``statement`` (RFC 3986 reserved/unreserved characters and spaces)."""
    return _STATEMENT_RE.fullmatch(text) is not None


def is_request_id(text: str) -> bool:
    """Whether `text` is a ``request-id`` (``*pchar``; may be empty)."""
    return _REQUEST_ID_RE.fullmatch(text) is not None


def is_nonce(text: str) -> bool:
    """Whether `text` is a ``nonce``: at least 8 ASCII letters and digits."""
    return _NONCE_RE.fullmatch(text) is not None


def is_chain_id_text(text: str) -> bool:
    """Whether `text` is a canonical decimal ``chain-id`` (digits, no leading zeros)."""
    return _CHAIN_ID_RE.fullmatch(text) is not None


def is_hex_address(text: str) -> bool:
    """Whether `text` is ``"0x" 40HEXDIG`` (any letter case)."""
    return _ADDRESS_RE.fullmatch(text) is not None


def is_checksum_address(text: str) -> bool:
    """Whether `text` is an address written exactly in its EIP-55 mixed-case checksum form."""
    return is_hex_address(text) and to_checksum_address(text) == text


def parse_date_time(text: str) -> datetime:
    """Parse an RFC 3339 ``date-time`` into an aware UTC datetime.

    Fractions beyond microseconds are truncated; offsets are applied.

    Args:
        text: The timestamp text, e.g. ``2021-09-30T16:25:24.000Z``.

    Returns:
        The instant as a `datetime` in UTC.

    Raises:
        ValueError: When `text` is not a valid RFC 3339 date-time (including
            impossible dates such as February 31st and leap seconds).
    """
    match = _DATE_TIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    fraction = (match.group("fraction") or "")[:6].ljust(6, "0")
    offset_text = match.group("offset")
    if offset_text in ("Z", "z"):
        offset = timedelta(0)
    else:
        hours, minutes = int(offset_text[1:3]), int(offset_text[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"not an RFC 3339 time offset: {offset_text!r}")
        offset = timedelta(hours=hours, minutes=minutes)
        if offset_text[0] == "-":
            offset = -offset
    try:
        local = datetime(
            int(match.group("year")),
            int(match.group("month")),
            int(match.group("day")),
            int(match.group("hour")),
            int(match.group("minute")),
            int(match.group("second")),
            int(fraction),
            tzinfo=timezone(offset),
        )
        return local.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid date-time: {text!r} ({exc})") from exc


def format_date_time(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 in UTC with milliseconds, e.g. ``2021-09-30T16:25:24.000Z``.

    Args:
        moment: An aware datetime.

    Returns:
        The timestamp text.

    Raises:
        ValueError: When `moment` is naive.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the datetime must be timezone-aware")
    utc = moment.astimezone(timezone.utc)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )
