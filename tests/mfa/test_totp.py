"""TOTP mechanism: RFC 6238 / RFC 4226 vectors, the ±1 window, input checks, secrets, URIs."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from fuzzydice.mfa import totp
from fuzzydice.settings import Settings
from tests.conftest import ROOT

VECTORS = Path(ROOT).parent / "shared" / "vectors"
ABSENT = f"public vectors folder {VECTORS} is absent (it sits beside the clone in CI)"

# RFC 6238 Appendix B: each algorithm has its own key length (20, 32 and 64 bytes).
RFC6238_KEYS = {
    "SHA1": "12345678901234567890",
    "SHA256": "12345678901234567890123456789012",
    "SHA512": "1234567890123456789012345678901234567890123456789012345678901234",
}
# A few rows of the RFC's table, written here so something always runs.
RFC6238_INLINE = [
    (59, "SHA1", "94287082"),
    (59, "SHA256", "46119246"),
    (59, "SHA512", "90693936"),
    (1111111109, "SHA1", "07081804"),
    (1234567890, "SHA256", "91819424"),
    (20000000000, "SHA512", "47863826"),
]
# RFC 4226 Appendix D, secret "12345678901234567890".
RFC4226_INLINE = [(0, "755224"), (1, "287082"), (9, "520489")]


def settings_for(**overrides: Any) -> Settings:
    """Explicit TOTP settings, so the environment cannot change them."""
    values: dict[str, Any] = dict(totp_digits=6, totp_algorithm="SHA1", totp_period=30, totp_window=1)
    values.update(overrides)
    return Settings(**values)


def b32(ascii_key: str) -> str:
    return base64.b32encode(ascii_key.encode("ascii")).decode()


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _load(name: str) -> dict | None:
    path = VECTORS / name
    return json.loads(path.read_text()) if path.is_file() else None


def _rfc6238_file_cases() -> list:
    data = _load("rfc6238.json")
    if data is None:
        return [pytest.param(None, None, None, None, marks=pytest.mark.skip(reason=ABSENT))]
    return [
        pytest.param(case["time"], algorithm, data["keys_ascii"][algorithm], case[algorithm], id=f"{algorithm}-{case['time']}")
        for case in data["cases"]
        for algorithm in ("SHA1", "SHA256", "SHA512")
    ]


def _rfc4226_file_cases() -> list:
    data = _load("rfc4226.json")
    if data is None:
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(data["secret_ascii"], counter, value, id=f"counter-{counter}") for counter, value in enumerate(data["hotp"])]


def check_rfc6238(seconds: int, algorithm: str, ascii_key: str, expected: str) -> None:
    settings = settings_for(totp_digits=8, totp_algorithm=algorithm)
    secret = b32(ascii_key)
    step = seconds // 30
    assert totp.time_step(at(seconds), settings) == step
    assert totp.code_at_step(secret, step, settings) == expected
    assert totp.matching_step(secret, expected, at(seconds), settings) == step


# --- RFC vectors -------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "algorithm", "ascii_key", "expected"), _rfc6238_file_cases())
def test_rfc6238_vectors_from_the_shared_folder(seconds: int, algorithm: str, ascii_key: str, expected: str) -> None:
    assert len(ascii_key) == {"SHA1": 20, "SHA256": 32, "SHA512": 64}[algorithm]
    check_rfc6238(seconds, algorithm, ascii_key, expected)


@pytest.mark.parametrize(("seconds", "algorithm", "expected"), RFC6238_INLINE)
def test_rfc6238_vectors_written_inline(seconds: int, algorithm: str, expected: str) -> None:
    check_rfc6238(seconds, algorithm, RFC6238_KEYS[algorithm], expected)


def test_sha256_and_sha512_need_their_own_key_length() -> None:
    # The classic bug: reusing the 20-byte key for SHA-256/512 gives other codes.
    for algorithm, expected in (("SHA256", "46119246"), ("SHA512", "90693936")):
        settings = settings_for(totp_digits=8, totp_algorithm=algorithm)
        assert totp.code_at_step(b32(RFC6238_KEYS["SHA1"]), 1, settings) != expected


@pytest.mark.parametrize(("ascii_key", "counter", "expected"), _rfc4226_file_cases())
def test_rfc4226_hotp_values_from_the_shared_folder(ascii_key: str, counter: int, expected: str) -> None:
    assert totp.code_at_step(b32(ascii_key), counter, settings_for(totp_period=30)) == expected


@pytest.mark.parametrize(("counter", "expected"), RFC4226_INLINE)
def test_rfc4226_hotp_values_written_inline(counter: int, expected: str) -> None:
    assert totp.code_at_step(b32("12345678901234567890"), counter, settings_for(totp_period=30)) == expected


def test_default_settings_give_six_digit_sha1_codes() -> None:
    defaults = Settings.model_fields
    assert defaults["totp_digits"].default == 6
    assert defaults["totp_algorithm"].default == "SHA1"
    assert defaults["totp_period"].default == 30
    assert defaults["totp_window"].default == 1
    # RFC 6238's SHA-1 row at T=59, last six digits.
    assert totp.code_at_step(b32(RFC6238_KEYS["SHA1"]), 1, settings_for()) == "287082"


# --- window --------------------------------------------------------------------------


MOMENT = datetime(2026, 1, 1, 0, 0, 45, tzinfo=timezone.utc)  # mid-step


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_codes_within_one_step_are_accepted(offset: int) -> None:
    settings, secret = settings_for(), totp.new_secret()
    now = totp.time_step(MOMENT, settings)
    code = totp.code_at_step(secret, now + offset, settings)
    assert totp.matching_step(secret, code, MOMENT, settings) == now + offset


@pytest.mark.parametrize("offset", [-2, 2, -3, 3])
def test_codes_two_steps_away_are_refused(offset: int) -> None:
    settings, secret = settings_for(), totp.new_secret()
    now = totp.time_step(MOMENT, settings)
    code = totp.code_at_step(secret, now + offset, settings)
    window = {totp.code_at_step(secret, now + d, settings) for d in (-1, 0, 1)}
    if code in window:  # one in a few hundred thousand: another step has the same code
        pytest.skip("colliding code")
    assert totp.matching_step(secret, code, MOMENT, settings) is None


def test_a_window_setting_above_one_is_capped_at_one() -> None:
    settings, secret = settings_for(totp_window=3), totp.new_secret()
    now = totp.time_step(MOMENT, settings)
    assert totp.matching_step(secret, totp.code_at_step(secret, now + 1, settings), MOMENT, settings) == now + 1
    assert totp.matching_step(secret, totp.code_at_step(secret, now + 2, settings), MOMENT, settings) is None


def test_window_zero_accepts_only_the_current_step() -> None:
    settings, secret = settings_for(totp_window=0), totp.new_secret()
    now = totp.time_step(MOMENT, settings)
    assert totp.matching_step(secret, totp.code_at_step(secret, now, settings), MOMENT, settings) == now
    assert totp.matching_step(secret, totp.code_at_step(secret, now - 1, settings), MOMENT, settings) is None


def test_codes_agree_with_pyotp_at_the_wall_time_of_a_moment() -> None:
    settings, secret = settings_for(), totp.new_secret()
    for moment in (MOMENT, MOMENT + timedelta(seconds=29), MOMENT + timedelta(days=400)):
        expected = pyotp.TOTP(secret).at(moment)
        assert totp.code_at_step(secret, totp.time_step(moment, settings), settings) == expected
        assert totp.matching_step(secret, expected, moment, settings) == totp.time_step(moment, settings)


def test_a_code_typed_with_spaces_is_accepted() -> None:
    settings, secret = settings_for(), totp.new_secret()
    code = totp.code_at_step(secret, totp.time_step(MOMENT, settings), settings)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", MOMENT, settings) is not None
    assert totp.matching_step(secret, f"{code[:3]}-{code[3:]}", MOMENT, settings) is not None
    assert totp.matching_step(secret, f"{code[:3]}\u00a0{code[3:]}", MOMENT, settings) is not None  # a no-break space


# --- input checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        None,
        "12345",  # too short
        "1234567",  # too long
        "12a456",
        "12-456",
        "+12345",
        "١٢٣٤٥٦",  # Arabic-Indic digits: str.isdigit() says yes
        "¹²³⁴⁵⁶",  # superscripts: str.isdigit() says yes
        "１２３４５６",  # full-width digits
    ],
)
def test_matching_step_refuses_malformed_codes_without_raising(typed: str | None) -> None:
    settings, secret = settings_for(), totp.new_secret()
    assert totp.matching_step(secret, typed, MOMENT, settings) is None  # type: ignore[arg-type]


def test_right_code_with_an_extra_or_missing_digit_is_refused() -> None:
    settings, secret = settings_for(), totp.new_secret()
    code = totp.code_at_step(secret, totp.time_step(MOMENT, settings), settings)
    assert totp.matching_step(secret, code + "0", MOMENT, settings) is None
    assert totp.matching_step(secret, code[:-1], MOMENT, settings) is None


def test_eight_digit_settings_refuse_six_digit_codes() -> None:
    settings, secret = settings_for(totp_digits=8), totp.new_secret()
    code = totp.code_at_step(secret, totp.time_step(MOMENT, settings), settings)
    assert len(code) == 8
    assert totp.matching_step(secret, code, MOMENT, settings) is not None
    assert totp.matching_step(secret, code[2:], MOMENT, settings) is None


# --- secrets and provisioning ------------------------------------------------------


def test_new_secret_is_160_bits_of_base32() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32
    assert len(base64.b32decode(secret)) == 20


def test_new_secret_differs_each_call() -> None:
    secrets = {totp.new_secret() for _ in range(200)}
    assert len(secrets) == 200


def test_group_for_reading_splits_into_fours() -> None:
    secret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    assert totp.group_for_reading(secret) == "ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567"


def test_provisioning_uri_names_issuer_account_and_secret() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "ada@example.com", settings_for())
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert unquote(parsed.path) == "/Fuzzy Dice:ada@example.com"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Fuzzy Dice"]
    # What an app builds from the URI produces our codes.
    app = pyotp.parse_uri(uri)
    assert app.now() == pyotp.TOTP(secret).now()


def test_provisioning_uri_carries_non_default_digits_and_algorithm() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), "ada@example.com", settings_for(totp_digits=8, totp_algorithm="SHA256"))
    query = parse_qs(urlparse(uri).query)
    assert query["digits"] == ["8"]
    assert query["algorithm"] == ["SHA256"]
