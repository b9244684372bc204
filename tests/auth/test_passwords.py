"""Password rules and the peppered bcrypt hash (real bcrypt, real zxcvbn)."""

from __future__ import annotations

import unicodedata

import pytest
from zxcvbn import zxcvbn

from fuzzydice.auth.passwords import PasswordHasher, check_new_password
from fuzzydice.outcome import Problem
from fuzzydice.ui.messages import field_message
from fuzzydice.keys import ServerKey
from fuzzydice.settings import Settings

# Random-looking, exactly 8 characters, and strong enough for the estimator.
STRONG_8 = "kq8Zr2Vx"
# 64 characters, none of them ASCII: Cyrillic, CJK, Greek (160 bytes of UTF-8, far over bcrypt's 72).
NON_ASCII_64 = ("Жёлтый日本語の猫がΩ" * 4 + "Щ" * 12)[:64]


def pepper(byte: int = 7) -> ServerKey:
    return ServerKey("pepper", bytes([byte]) * 32)


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(pepper(), cost=4)


@pytest.fixture
def rules() -> Settings:
    return Settings(mode="demo")


def test_fixtures_are_what_they_claim() -> None:
    assert len(STRONG_8) == 8
    assert zxcvbn(STRONG_8, user_inputs=["fuzzydice", "fuzzy", "dice"])["score"] >= 2
    assert len(NON_ASCII_64) == 64
    assert all(ord(ch) > 127 for ch in NON_ASCII_64)
    assert len(NON_ASCII_64.encode("utf-8")) > 72


def test_seven_characters_refused(rules: Settings) -> None:
    problem = check_new_password("kq8Zr2V", rules)
    assert problem is not None
    assert problem == Problem("too_short", {"min": 8})
    assert field_message(problem) == "Use at least 8 characters."


def test_exactly_eight_strong_characters_accepted(rules: Settings) -> None:
    assert check_new_password(STRONG_8, rules) is None


def test_exactly_256_characters_accepted(rules: Settings) -> None:
    password = ("tangerine Quokka 93 marbles " * 10)[:256]
    assert len(password) == 256
    assert check_new_password(password, rules) is None


def test_257_characters_refused_not_truncated(rules: Settings) -> None:
    password = ("tangerine Quokka 93 marbles " * 10)[:257]
    problem = check_new_password(password, rules)
    assert problem is not None
    assert problem == Problem("too_long", {"max": 256})
    assert field_message(problem) == "Use at most 256 characters."


def test_length_counts_characters_not_bytes(rules: Settings) -> None:
    # 64 non-ASCII characters are 160 bytes but well under the 256-character limit.
    assert check_new_password(NON_ASCII_64, rules) is None
    # 8 characters of 4-byte UTF-8 each are still 8 characters.
    assert check_new_password("𝔸𝔹ℂ🎲🎯🐉𝕏𝕐", rules) is None


@pytest.mark.parametrize("guessable", ["password123", "fuzzydice2024"])
def test_guessable_password_refused_with_the_estimators_reason(rules: Settings, guessable: str) -> None:
    problem = check_new_password(guessable, rules)
    assert problem is not None
    feedback = zxcvbn(guessable, user_inputs=["fuzzydice", "fuzzy", "dice"])["feedback"]
    reason = feedback["warning"] or feedback["suggestions"][0]
    assert reason
    assert problem.code == "password_weak"
    assert reason in field_message(problem)


def test_product_name_and_user_context_count_against_the_password(rules: Settings) -> None:
    assert check_new_password("fuzzydice2024", rules) is not None
    # A name that would be fine for a stranger is weak for its owner.
    assert check_new_password("Wilhelmina1987", rules, context=("Wilhelmina",)) is not None


def test_no_composition_rules_long_lowercase_passphrase_accepted(rules: Settings) -> None:
    passphrase = "purple monkey dishwasher lantern"
    assert passphrase == passphrase.lower() and not any(ch.isdigit() for ch in passphrase)
    assert check_new_password(passphrase, rules) is None


def test_hash_and_verify_roundtrip(hasher: PasswordHasher) -> None:
    stored = hasher.hash(STRONG_8)
    assert hasher.verify(STRONG_8, stored)
    assert not hasher.verify(STRONG_8.lower(), stored)
    assert not hasher.verify("", stored)


def test_stored_form_names_the_pepper_and_salts_uniquely(hasher: PasswordHasher) -> None:
    first, second = hasher.hash(STRONG_8), hasher.hash(STRONG_8)
    assert first != second  # unique salts
    scheme, key_id, bcrypt_hash = first.split("$", 2)
    assert scheme == "fd1"
    assert key_id == pepper().key_id
    assert bcrypt_hash.startswith("$2b$04$")
    assert STRONG_8 not in first


def test_default_cost_is_12_and_reaches_the_stored_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUZZYDICE_BCRYPT_COST", raising=False)
    assert Settings().bcrypt_cost == 12
    stored = PasswordHasher(pepper(), cost=Settings().bcrypt_cost).hash(STRONG_8)
    assert stored.startswith(f"fd1${pepper().key_id}$")
    assert "$2b$12$" in stored


def test_64_non_ascii_characters_hash_and_verify(hasher: PasswordHasher) -> None:
    stored = hasher.hash(NON_ASCII_64)
    assert hasher.verify(NON_ASCII_64, stored)
    changed = NON_ASCII_64[:-1] + "Ш"
    assert not hasher.verify(changed, stored)
    changed_first = "Ш" + NON_ASCII_64[1:]
    assert not hasher.verify(changed_first, stored)


def test_no_truncation_at_72_bytes(hasher: PasswordHasher) -> None:
    shared = "a" * 72
    one, other = shared + "X", shared + "Y"
    assert one.encode()[:72] == other.encode()[:72]
    stored = hasher.hash(one)
    assert hasher.verify(one, stored)
    assert not hasher.verify(other, stored)
    # Same for multi-byte text whose first 72 bytes agree.
    prefix = NON_ASCII_64[:40]
    assert len(prefix.encode()) > 72
    stored = hasher.hash(prefix + "甲")
    assert not hasher.verify(prefix + "乙", stored)


def test_nfc_and_nfd_forms_verify() -> None:
    hasher = PasswordHasher(pepper(), cost=4)
    composed = unicodedata.normalize("NFC", "Crème brûlée à Zürich")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert hasher.verify(decomposed, hasher.hash(composed))
    assert hasher.verify(composed, hasher.hash(decomposed))


def test_another_pepper_does_not_verify(hasher: PasswordHasher) -> None:
    stored = hasher.hash(STRONG_8)
    other = PasswordHasher(pepper(9), cost=4)
    assert not other.verify(STRONG_8, stored)


def test_malformed_stored_hash_fails_closed(hasher: PasswordHasher) -> None:
    assert not hasher.verify(STRONG_8, "not-a-hash")
    assert not hasher.verify(STRONG_8, "$2b$04$" + "a" * 53)


def test_unknown_user_runs_one_bcrypt_check(hasher: PasswordHasher, checkpw_calls: list[bytes]) -> None:
    hasher.dummy_hash()  # made once, up front: hashing is not what is counted
    checkpw_calls.clear()
    assert hasher.verify(STRONG_8, None) is False
    assert len(checkpw_calls) == 1
    assert checkpw_calls[0].decode() == hasher.dummy_hash().split("$", 2)[2]


def test_corrupt_hash_under_the_current_pepper_fails_closed(hasher: PasswordHasher) -> None:
    assert not hasher.verify(STRONG_8, f"fd1${pepper().key_id}$garbage")
    assert not hasher.verify(STRONG_8, f"fd1${pepper().key_id}$")
