"""Backup codes mechanism: 80-bit codes, display format, forgiving input, keyed hashes, nothing in clear at rest."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from fuzzydice.keys import ServerKey
from fuzzydice.mfa import backup_codes
from fuzzydice.mfa.kinds.backup_codes import CODES_PURPOSE
from fuzzydice.mfa.secret_box import open_sealed
from fuzzydice.models import AuditEvent, AuthSession, BackupCode, SecondFactor, User
from fuzzydice.services import Services
from fuzzydice.settings import Settings
from tests.mfa.conftest import Enrolled, raw

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
DISPLAYED = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")
CODE = "ABCDOIBXYZ234567"  # holds O, I and B, which people type as 0, 1 and 8


def test_ten_codes_by_default() -> None:
    assert Settings.model_fields["backup_code_count"].default == 10


def test_new_codes_are_16_base32_chars_of_80_bits_each() -> None:
    codes = backup_codes.new_codes(10)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert len(code) == 16 and set(code) <= set(BASE32)
        assert len(base64.b32decode(code)) == 10  # 80 bits


def test_new_codes_differ_between_calls() -> None:
    seen = {code for _ in range(50) for code in backup_codes.new_codes(10)}
    assert len(seen) == 500


def test_display_groups_in_fours() -> None:
    assert backup_codes.display(CODE) == "ABCD-OIBX-YZ23-4567"
    for code in backup_codes.new_codes(10):
        shown = backup_codes.display(code)
        assert DISPLAYED.match(shown)
        assert shown.replace("-", "") == code


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDOIBXYZ234567",
        "ABCD-OIBX-YZ23-4567",
        "abcd-oibx-yz23-4567",
        "  abcd oibx\tyz23 4567\n",
        "ABCD-0IBX-YZ23-4567",  # zero for O
        "ABCD-O1BX-YZ23-4567",  # one for I
        "ABCD-OI8X-YZ23-4567",  # eight for B
        "abcd018xyz234567",
        "A-B-C-D-O-I-B-X-Y-Z-2-3-4-5-6-7",
    ],
)
def test_normalize_forgives_case_spaces_dashes_and_confusables(typed: str) -> None:
    assert backup_codes.normalize(typed) == CODE


def test_every_displayed_code_normalizes_back() -> None:
    for code in backup_codes.new_codes(10):
        assert backup_codes.normalize(backup_codes.display(code).lower()) == code


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "   ",
        "ABCDOIBXYZ23456",  # 15
        "ABCDOIBXYZ2345677",  # 17
        "ABCDOIBXYZ234569",  # 9 is not base32
        "ABCDOIBXYZ23456!",
        "ABCDOIBXYZ23456=",
        "ABCDOIBXYZ23456É",
        "ABCD_OIBX_YZ23_4567",
    ],
)
def test_normalize_refuses_wrong_length_and_bad_characters(typed: str | None) -> None:
    assert backup_codes.normalize(typed) is None  # type: ignore[arg-type]


def test_hash_is_keyed_and_names_its_key() -> None:
    one, two = ServerKey("signing_key", os.urandom(32)), ServerKey("signing_key", os.urandom(32))
    hashed = backup_codes.code_hash(one, CODE)
    assert hashed == backup_codes.code_hash(one, CODE)
    assert hashed != backup_codes.code_hash(two, CODE)
    assert hashed != backup_codes.code_hash(one, "ABCDOIBXYZ234566")
    key_id, digest = hashed.split(":")
    assert key_id == one.key_id
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert CODE not in hashed and CODE.lower() not in hashed
    assert len(hashed) <= BackupCode.model_fields["code_hash"].metadata[0].max_length


def test_download_text_lists_every_code_as_displayed() -> None:
    codes = backup_codes.new_codes(10)
    text = backup_codes.download_text(codes)
    assert text.startswith("Fuzzy Dice backup codes\n")
    assert [line for line in text.splitlines() if DISPLAYED.match(line)] == [backup_codes.display(c) for c in codes]


# --- at rest ----------------------------------------------------------------------


def _text_values(services: Services, tables: list[sa.Table]) -> list[tuple[str, str, str]]:
    found = []
    with services.engine.connect() as conn:
        for table in tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, str):
                        found.append((table.name, column, value))
    return found


def test_no_backup_code_is_stored_in_clear(services: Services, enrolled: Enrolled, db_path: Path) -> None:
    codes = [raw(code) for code in enrolled.backup_codes]
    assert len(codes) == 10
    forms = [form for code in codes for form in (code, code.lower(), backup_codes.display(code))]

    tables = [BackupCode.__table__, SecondFactor.__table__, User.__table__, AuthSession.__table__, AuditEvent.__table__]
    values = _text_values(services, tables)
    assert any(column == "code_hash" for _, column, _ in values)
    for table, column, value in values:
        for form in forms:
            assert form not in value, f"{table}.{column} holds a backup code in clear"

    # The codes kept for showing (by the session that enrolled) are sealed for this user, not readable as they are.
    with services.db() as session:
        sealed = session.execute(
            sa.select(AuthSession.backup_codes_to_show).where(
                AuthSession.user_id == enrolled.user_id, AuthSession.backup_codes_to_show.is_not(None)
            )
        ).scalar_one()
    assert sealed.startswith("gcm1.")
    opened = open_sealed(services.keys.aes_key, sealed, purpose=CODES_PURPOSE, user_id=enrolled.user_id)
    assert all(code.encode() in opened for code in codes)

    # And no page of the database file (or its write-ahead log) holds one either.
    blobs = [path.read_bytes() for path in (db_path, Path(f"{db_path}-wal")) if path.exists()]
    for blob in blobs:
        for code in codes:
            assert code.encode() not in blob and code.lower().encode() not in blob


def test_stored_hashes_are_the_keyed_hashes_of_the_issued_codes(services: Services, enrolled: Enrolled) -> None:
    with services.db() as session:
        stored = set(session.execute(sa.select(BackupCode.code_hash).where(BackupCode.user_id == enrolled.user_id)).scalars())
    expected = {backup_codes.code_hash(services.keys.signing_key, raw(code)) for code in enrolled.backup_codes}
    assert stored == expected
    other_key = ServerKey("signing_key", os.urandom(32))
    assert stored.isdisjoint(backup_codes.code_hash(other_key, raw(code)) for code in enrolled.backup_codes)
