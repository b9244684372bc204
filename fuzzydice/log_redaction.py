"""A logging filter that keeps passwords, codes, secrets and tokens out of every log line."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# --- by field name -------------------------------------------------------------------
# A key is sensitive when one of its parts (split at _ - . and camelCase) is one of
# these words: `step_up_code`, `new_code`, `backupCode`, `X-Session-Token`, `fd_bind`.
_SENSITIVE_PARTS = frozenset(
    "password passwd pwd pass passphrase passcode secret secrets code codes otp totp hotp pin "
    "token tokens ticket tickets bind binding nonce signature sig cookie cookies authorization "
    "auth pepper key keys apikey session sid csrf xsrf jwt credential credentials mnemonic".split()
)
# Long words count inside a part too (`newpassword`, `sessionid`, `apitoken`).
_SENSITIVE_INFIXES = (
    "password", "passwd", "passphrase", "passcode", "secret", "token", "ticket", "nonce",
    "signature", "cookie", "authorization", "pepper", "session", "credential", "mnemonic",
)  # fmt: skip
# `status_code`, `exit_code`: a "code" that is no secret.
_HARMLESS_CODE_PARTS = frozenset(
    "status exit error http response return country zip post postal area currency lang language locale".split()
)
# `KeyError: 'x'`, `SiweSignatureError: ...`: an exception's name, not a field.
_EXCEPTION_SUFFIXES = frozenset(("error", "exception", "warning"))

_NAME_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# key=value, key: value, "key": "value", 'key': 'value' (not `==`, not `scheme://`).
_KEY = re.compile(
    r"""(?P<q>["']?)(?<![\w.\-])(?P<name>[A-Za-z_][\w.\-]*)(?P=q)[ \t]*(?P<sep>=(?!=)|:(?!//))[ \t]*"""
)
_QUOTED = {'"': re.compile(r'"(?:[^"\\\r\n]|\\.)*"'), "'": re.compile(r"'(?:[^'\\\r\n]|\\.)*'")}
# A bare value ends where a reader would end it: ", " "; " "&" a line end, or ` otherkey=`.
_BARE_END = re.compile(r""",(?=\s|["'])|;\s|&|[\r\n]|\s+[A-Za-z_][\w.\-]*\s*=(?!=)|$""")
# In a URL query (`/check?ticket=...&`), a value ends at the next & or space.
_QUERY_VALUE = re.compile(r"""[^&\s#"'<>]*""")


def _sensitive_name(name: str) -> bool:
    parts = [
        piece.lower() for chunk in _NAME_SPLIT.split(name) for piece in _CAMEL_PARTS.findall(chunk)
    ]
    if not parts or parts[-1] in _EXCEPTION_SUFFIXES:
        return False
    hits = {part for part in parts if part in _SENSITIVE_PARTS}
    hits |= {word for part in parts for word in _SENSITIVE_INFIXES if word in part}
    if hits <= {"code", "codes"} and hits and not _HARMLESS_CODE_PARTS.isdisjoint(parts):
        return False
    return bool(hits)


def _in_url(text: str, at: int) -> bool:
    """Whether position `at` is in the query of a URL (its word holds a `?`), not a form body."""
    window = max(0, at - 2048)  # bounded: a line of many `&key=` must not cost quadratic time
    word_start = max(text.rfind(char, window, at) for char in ' \t\r\n"\'')
    return "?" in text[max(window, word_start + 1) : at]


def _redact_fields(text: str) -> str:
    out: list[str] = []
    pos = 0
    while (match := _KEY.search(text, pos)) is not None:
        if not _sensitive_name(match.group("name")):
            out.append(text[pos : match.end("name")])
            pos = match.end("name")
            continue
        start = match.end()
        before = text[match.start() - 1] if match.start() else ""
        quoted = _QUOTED.get(text[start : start + 1])
        found = quoted.match(text, start) if quoted else None
        if found is not None:
            end, value = found.end(), f"{text[start]}{REDACTED}{text[start]}"
        elif before in ("?", "&") and not match.group("q") and _in_url(text, match.start()):
            end, value = _QUERY_VALUE.match(text, start).end(), REDACTED
        else:
            stop = _BARE_END.search(text, start)
            end = start + len(text[start : stop.start()].rstrip())
            value = REDACTED
        out.append(text[pos:start] + (value if end > start else ""))  # `password=` alone: nothing to hide
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --- by value shape ---------------------------------------------------------------------
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_OTPAUTH = re.compile(r"""(?i)\b(otpauth://)[^\s"'<>]+""")
# A 6-8 digit code right after a word that names it: "code 493021", "OTP is 12345678".
_CODE_WORD = re.compile(
    r"(?i)(?<![A-Za-z])((?:code|otp|totp|passcode|pin)s?\s*[:=#]?\s+(?:is\s+|was\s+)?#?)\d{6,8}(?![0-9])"
)
# Base32 in groups of four (a TOTP secret read aloud, a backup code `ABCD-EFGH-IJKL-MNOP`
# or `abcd efgh ijkl mnop`): upper case, or lower case with one of base32's digits.
_GROUPED_UPPER = re.compile(r"(?<![A-Za-z0-9])[A-Z2-7]{4}(?:[ -][A-Z2-7]{4}){3,}(?![A-Za-z0-9])")
_GROUPED_LOWER = re.compile(r"(?<![A-Za-z0-9])[a-z2-7]{4}(?:[ -][a-z2-7]{4}){3,}(?![A-Za-z0-9])")
# Raw base32 of 80 bits or more (a backup code as generated or typed).
_RAW_UPPER = re.compile(r"(?<![A-Za-z0-9])[A-Z2-7]{16,}(?![A-Za-z0-9])")
_RAW_LOWER = re.compile(r"(?<![A-Za-z0-9])[a-z2-7]{16,}(?![A-Za-z0-9])")
_BASE32_DIGIT = re.compile(r"[2-7]")
# Long random-looking strings (URL-safe base64 / hex of 128 bits or more, 0x signatures) are tokens.
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")  # a wallet address is public: keep it readable


def _with_digit(match: re.Match) -> str:
    return REDACTED if _BASE32_DIGIT.search(match.group()) else match.group()


def _long_token(match: re.Match) -> str:
    return match.group() if _ADDRESS.fullmatch(match.group()) else REDACTED


def redact(text: str) -> str:
    """Return `text` with sensitive values replaced by a marker."""
    text = _OTPAUTH.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _redact_fields(text)
    text = _CODE_WORD.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _GROUPED_UPPER.sub(REDACTED, text)
    text = _GROUPED_LOWER.sub(_with_digit, text)
    text = _RAW_UPPER.sub(REDACTED, text)
    text = _RAW_LOWER.sub(_with_digit, text)
    return _LONG_TOKEN.sub(_long_token, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record whose text holds a sensitive value; other records pass untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not take logging down
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message:
            if isinstance(record.args, tuple) and record.name.startswith("uvicorn.access"):
                # Its formatter unpacks the arguments: redact them one by one.
                record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
            else:
                record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Render the traceback now (formatters reuse a cached exc_text): at record
            # creation it is not rendered yet, so the exception's message would escape.
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_TRACEBACK_FORMATTER = logging.Formatter()


_installed = False


def install_redaction() -> None:
    """Redact every log record of the process as it is created (idempotent).

    A record factory reaches records of every logger, including libraries' own
    loggers and handlers added later, which per-handler filters would miss.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    redactor = RedactingFilter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redactor.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
