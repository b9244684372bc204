"""The EIP-4361 (Sign-In with Ethereum) message: fields, exact text, strict parser and checked builder.

The message text is what the wallet signs (EIP-191 ``personal_sign``), so the
text is the source of truth: `SiweMessage` keeps every timestamp as the exact
text of the message, and ``SiweMessage.parse(text).to_text() == text`` holds
for every text the parser accepts.

The plain constructor does not check anything (it is a record); use
`SiweMessage.build` / `SiweMessage.from_dict` to create a message from field
values, or `SiweMessage.parse` for a text. `verify_message` checks the fields
again before it trusts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from fuzzydice.siwe import grammar
from fuzzydice.siwe.errors import SiweParseError, SiweValidationError

HEADER_SUFFIX = " wants you to sign in with your Ethereum account:"
MAX_MESSAGE_CHARS = 16_384  # far above any real sign-in message; bounds the parser's work
_REQUIRED_TAGS = (
    ("uri", "URI: "),
    ("version", "Version: "),
    ("chain_id", "Chain ID: "),
    ("nonce", "Nonce: "),
    ("issued_at", "Issued At: "),
)
_OPTIONAL_TAGS = (
    ("expiration_time", "Expiration Time: "),
    ("not_before", "Not Before: "),
    ("request_id", "Request ID: "),
)
_RESOURCES_TAG = "Resources:"
_RESOURCE_PREFIX = "- "
_TIMESTAMP_FIELDS = ("issued_at", "expiration_time", "not_before")
_CAMEL_TO_SNAKE = {
    "chainId": "chain_id",
    "issuedAt": "issued_at",
    "expirationTime": "expiration_time",
    "notBefore": "not_before",
    "requestId": "request_id",
}


@dataclass(frozen=True)
class SiweMessage:
    """An EIP-4361 message.

    Attributes:
        domain: RFC 3986 authority requesting the sign-in, e.g. ``example.com:3000``.
        address: The signer's address in EIP-55 checksum form.
        uri: RFC 3986 URI of the resource the sign-in is for.
        version: Always ``"1"``.
        chain_id: EIP-155 chain id the session is bound to.
        nonce: At least 8 ASCII letters/digits, chosen by the server.
        issued_at: RFC 3339 timestamp, exactly as written in the message.
        statement: Optional one-line human-readable assertion.
        expiration_time: Optional RFC 3339 timestamp after which the message is invalid.
        not_before: Optional RFC 3339 timestamp before which the message is invalid.
        request_id: Optional system-specific identifier (``*pchar``).
        resources: RFC 3986 URIs listed under ``Resources:``.
        scheme: Optional URI scheme written before the domain (``https://example.com``).
    """

    domain: str
    address: str
    uri: str
    version: str
    chain_id: int
    nonce: str
    issued_at: str
    statement: str | None = None
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()
    scheme: str | None = None

    # --- text --------------------------------------------------------------------

    def to_text(self) -> str:
        """The exact EIP-4361 text of the message (what the wallet signs).

        With no statement, the address is followed by three line breaks.

        Returns:
            The message text, lines joined with LF and no trailing line break.
        """
        origin = f"{self.scheme}://{self.domain}" if self.scheme is not None else self.domain
        lines = [origin + HEADER_SUFFIX, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines.append("")
        lines += [
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {self.expiration_time}")
        if self.not_before is not None:
            lines.append(f"Not Before: {self.not_before}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append(_RESOURCES_TAG)
            lines += [_RESOURCE_PREFIX + resource for resource in self.resources]
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str) -> SiweMessage:
        """Parse a message text strictly against the EIP-4361 ABNF.

        Args:
            text: The message text (LF line breaks, no trailing line break).

        Returns:
            The message; its `to_text()` equals `text`.

        Raises:
            SiweParseError: When the text does not conform, with the reason.
        """
        if not isinstance(text, str):
            raise SiweParseError("the message must be a str")
        if len(text) > MAX_MESSAGE_CHARS:
            raise SiweParseError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
        lines = text.split("\n")
        values: dict[str, Any] = {}

        header = lines[0]
        if not header.endswith(HEADER_SUFFIX):
            raise SiweParseError(f"the first line must end with {HEADER_SUFFIX.strip()!r}")
        origin = header[: -len(HEADER_SUFFIX)]
        scheme, sep, domain = origin.partition("://")
        if not sep:
            scheme, domain = None, origin
        values["scheme"], values["domain"] = scheme, domain

        if len(lines) < 4:
            raise SiweParseError("the message ends after its first lines")
        values["address"] = lines[1]
        if lines[2] != "":
            raise SiweParseError("the address must be followed by an empty line")
        if lines[3] == "":
            values["statement"], index = None, 4
        else:
            values["statement"], index = lines[3], 4
            if index >= len(lines) or lines[index] != "":
                raise SiweParseError("the statement must be one line followed by an empty line")
            index += 1

        for name, tag in _REQUIRED_TAGS:
            if index >= len(lines) or not lines[index].startswith(tag):
                raise SiweParseError(f"expected a {tag.strip()!r} line at line {index + 1}")
            values[name] = lines[index][len(tag) :]
            index += 1
        for name, tag in _OPTIONAL_TAGS:
            if index < len(lines) and lines[index].startswith(tag):
                values[name] = lines[index][len(tag) :]
                index += 1
        resources: list[str] = []
        if index < len(lines) and lines[index] == _RESOURCES_TAG:
            index += 1
            while index < len(lines) and lines[index].startswith(_RESOURCE_PREFIX):
                resources.append(lines[index][len(_RESOURCE_PREFIX) :])
                index += 1
            if not resources:
                raise SiweParseError("'Resources:' must list at least one resource")
        values["resources"] = tuple(resources)
        if index < len(lines):
            raise SiweParseError(f"unexpected text at line {index + 1}: {lines[index][:80]!r}")

        chain_text = values["chain_id"]
        if not grammar.is_chain_id_text(chain_text):
            raise SiweParseError(f"the chain id must be a decimal number without leading zeros: {chain_text!r}")
        try:
            values["chain_id"] = int(chain_text)
        except ValueError as exc:  # more digits than Python converts
            raise SiweParseError(f"the chain id is too long: {exc}") from exc

        message = cls(**values)
        try:
            message.validate()
        except SiweValidationError as exc:
            raise SiweParseError(str(exc)) from exc
        return message

    # --- building and checking ---------------------------------------------------

    @classmethod
    def build(
        cls,
        *,
        domain: str | None = None,
        address: str | None = None,
        uri: str | None = None,
        version: str | None = None,
        chain_id: int | None = None,
        nonce: str | None = None,
        issued_at: str | datetime | None = None,
        statement: str | None = None,
        expiration_time: str | datetime | None = None,
        not_before: str | datetime | None = None,
        request_id: str | None = None,
        resources: Iterable[str] = (),
        scheme: str | None = None,
    ) -> SiweMessage:
        """Create a message from field values, checking every field.

        Required fields (including ``version``, which must be ``"1"``) default
        to None only so that a missing one raises `SiweValidationError` like
        any other invalid value. Timestamps may be
        given as aware datetimes; they are written as UTC with milliseconds.

        Returns:
            The checked message.

        Raises:
            SiweValidationError: When a field is missing or invalid.
        """
        timestamps = {"issued_at": issued_at, "expiration_time": expiration_time, "not_before": not_before}
        for name, value in timestamps.items():
            if isinstance(value, datetime):
                try:
                    timestamps[name] = grammar.format_date_time(value)
                except ValueError as exc:
                    raise SiweValidationError(name, str(exc)) from exc
        if isinstance(resources, (str, bytes)):
            raise SiweValidationError("resources", "must be a list of URIs, not a single string")
        try:
            resource_tuple = tuple(resources)
        except TypeError as exc:
            raise SiweValidationError("resources", "must be a list of URIs") from exc
        message = cls(
            domain=domain,  # type: ignore[arg-type]  # None is rejected by validate()
            address=address,  # type: ignore[arg-type]
            uri=uri,  # type: ignore[arg-type]
            version=version,  # type: ignore[arg-type]
            chain_id=chain_id,  # type: ignore[arg-type]
            nonce=nonce,  # type: ignore[arg-type]
            issued_at=timestamps["issued_at"],  # type: ignore[arg-type]
            statement=statement,
            expiration_time=timestamps["expiration_time"],  # type: ignore[arg-type]
            not_before=timestamps["not_before"],  # type: ignore[arg-type]
            request_id=request_id,
            resources=resource_tuple,
            scheme=scheme,
        )
        message.validate()
        return message

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SiweMessage:
        """Build a message from a mapping with snake_case or camelCase keys (``chainId``, ``issuedAt``...).

        Args:
            data: The field values; unknown keys are an error.

        Returns:
            The checked message.

        Raises:
            SiweValidationError: When a key is unknown or a field is missing or invalid.
        """
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = _CAMEL_TO_SNAKE.get(key, key)
            if name not in known:
                raise SiweValidationError(str(key), "is not a field of a SIWE message")
            if name in kwargs:
                raise SiweValidationError(name, "is given twice")
            kwargs[name] = value
        if kwargs.get("resources") is None:
            kwargs.pop("resources", None)
        return cls.build(**kwargs)

    def validate(self) -> None:
        """Check every field against the EIP-4361 grammar.

        Raises:
            SiweValidationError: For the first invalid field found.
        """
        self._check_required_text()
        if self.scheme is not None and not (isinstance(self.scheme, str) and grammar.is_scheme(self.scheme)):
            raise SiweValidationError("scheme", f"not an RFC 3986 scheme: {self.scheme!r}")
        if not grammar.is_authority(self.domain, require_host=True):
            raise SiweValidationError("domain", f"not an RFC 3986 authority with a host: {self.domain!r}")
        if not grammar.is_hex_address(self.address):
            raise SiweValidationError("address", f"not 0x followed by 40 hex digits: {self.address!r}")
        if not grammar.is_checksum_address(self.address):
            raise SiweValidationError("address", f"not in EIP-55 checksum form: {self.address!r}")
        if self.statement is not None and not (isinstance(self.statement, str) and grammar.is_statement(self.statement)):
            raise SiweValidationError(
                "statement", "must be one non-empty line of RFC 3986 reserved/unreserved characters and spaces"
            )
        if not grammar.is_uri(self.uri):
            raise SiweValidationError("uri", f"not an RFC 3986 URI: {self.uri!r}")
        if self.version != "1":
            raise SiweValidationError("version", f"must be '1', not {self.version!r}")
        if isinstance(self.chain_id, bool) or not isinstance(self.chain_id, int) or self.chain_id < 0:
            raise SiweValidationError("chain_id", f"must be a non-negative integer, not {self.chain_id!r}")
        if not grammar.is_nonce(self.nonce):
            raise SiweValidationError("nonce", "must be at least 8 ASCII letters and digits")
        for name in _TIMESTAMP_FIELDS:
            self._timestamp(name)
        if self.request_id is not None and not (
            isinstance(self.request_id, str) and grammar.is_request_id(self.request_id)
        ):
            raise SiweValidationError("request_id", "must consist of RFC 3986 pchar characters")
        if not isinstance(self.resources, tuple):
            raise SiweValidationError("resources", "must be a tuple of URIs")
        for position, resource in enumerate(self.resources):
            if not (isinstance(resource, str) and grammar.is_uri(resource)):
                raise SiweValidationError("resources", f"item {position} is not an RFC 3986 URI: {resource!r}")

    def _check_required_text(self) -> None:
        for name in ("domain", "address", "uri", "version", "nonce", "issued_at"):
            value = getattr(self, name)
            if value is None:
                raise SiweValidationError(name, "is required")
            if not isinstance(value, str):
                raise SiweValidationError(name, f"must be a string, not {type(value).__name__}")
        if self.chain_id is None:
            raise SiweValidationError("chain_id", "is required")

    # --- timestamps --------------------------------------------------------------

    def _timestamp(self, name: str) -> datetime | None:
        value = getattr(self, name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise SiweValidationError(name, f"must be a string, not {type(value).__name__}")
        try:
            return grammar.parse_date_time(value)
        except ValueError as exc:
            raise SiweValidationError(name, str(exc)) from exc

    @property
    def issued_at_datetime(self) -> datetime:
        """`issued_at` as an aware UTC datetime.

        Raises:
            SiweValidationError: When the timestamp is not valid RFC 3339.
        """
        moment = self._timestamp("issued_at")
        if moment is None:
            raise SiweValidationError("issued_at", "is required")
        return moment

    @property
    def expiration_datetime(self) -> datetime | None:
        """`expiration_time` as an aware UTC datetime, or None when absent.

        Raises:
            SiweValidationError: When the timestamp is not valid RFC 3339.
        """
        return self._timestamp("expiration_time")

    @property
    def not_before_datetime(self) -> datetime | None:
        """`not_before` as an aware UTC datetime, or None when absent.

        Raises:
            SiweValidationError: When the timestamp is not valid RFC 3339.
        """
        return self._timestamp("not_before")
