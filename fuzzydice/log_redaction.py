"""A logging filter that keeps passwords, codes, secrets and tokens out of every log line."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# key=value, key: value, "key": "value" for sensitive key names.
_SENSITIVE_KEYS = (
    r"password|passwd|pwd|new_password|current_password|secret|totp_secret|otp|code|backup_code|"
    r"token|access_token|refresh_token|ticket|bind|session|fd_session|fd_bind|__Host-fd_session|"
    r"authorization|cookie|api_key|pepper|aes_key|signing_key|signature|nonce"
)
_KEY_VALUE = re.compile(
    rf"""(?P<key>["']?\b(?:{_SENSITIVE_KEYS})["']?\s*[:=]\s*)"""
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s,;&}]+))""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Long random-looking strings (URL-safe base64 / hex of 128 bits or more) are tokens.
_LONG_TOKEN = re.compile(r"\b[A-Za-z0-9_-]{32,}\b")


def _replace_value(match: re.Match) -> str:
    if match.group("dq") is not None:
        return f'{match.group("key")}"{REDACTED}"'
    if match.group("sq") is not None:
        return f"{match.group('key')}'{REDACTED}'"
    return f"{match.group('key')}{REDACTED}"


def redact(text: str) -> str:
    """Return `text` with sensitive values replaced by a marker."""
    text = _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _KEY_VALUE.sub(_replace_value, text)
    return _LONG_TOKEN.sub(REDACTED, text)


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
