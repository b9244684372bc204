"""Amounts in human units: exact Decimals, text cut (never rounded up) to four places, no float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fuzzydice.chain.amounts import format_amount, to_base_units, to_decimal


@pytest.mark.parametrize(
    ("raw", "decimals", "text"),
    [
        (1_234_567_800_000_000_000_000, 18, "1,234.5678 DICE"),
        (1_234_567_899_999_999_999_999, 18, "1,234.5678 DICE"),  # cut, not rounded up to .5679
        (1_500_000_000_000_000_000, 18, "1.5 DICE"),  # trailing zeros trimmed
        (2 * 10**18, 18, "2 DICE"),
        (0, 18, "0 DICE"),
        (10**13, 18, "< 0.0001 DICE"),
        (1, 18, "< 0.0001 DICE"),
        (10**14, 18, "0.0001 DICE"),
        (1_500_000, 6, "1.5 DICE"),
        (7, 0, "7 DICE"),
        (1_234_567, 0, "1,234,567 DICE"),
    ],
)
def test_text(raw: int, decimals: int, text: str) -> None:
    assert format_amount(raw, decimals, "DICE") == text


def test_without_symbol_and_with_other_places() -> None:
    assert format_amount(1_234_567_800_000_000_000_000, 18) == "1,234.5678"
    assert format_amount(1_555_000, 6, "fUSD", places=2) == "1.55 fUSD"
    assert format_amount(1_000, 6, "fUSD", places=2) == "< 0.01 fUSD"


def test_the_largest_uint256_is_shown_digit_for_digit() -> None:
    raw = 2**256 - 1
    whole = "115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457"
    assert format_amount(raw, 18) == whole + ".584"  # .584007913… cut to .5840, the zero trimmed
    assert str(to_decimal(raw, 18)).replace(".", "") == str(raw)  # exact: no digit lost at 28-digit precision


def test_decimal_is_exact_and_keeps_the_token_scale() -> None:
    assert to_decimal(1_500_000, 6) == Decimal("1.5")
    assert str(to_decimal(1_500_000, 6)) == "1.500000"
    assert to_decimal(0, 0) == 0
    assert isinstance(to_decimal(1, 18), Decimal)


def test_negative_input_is_a_caller_bug() -> None:
    with pytest.raises(ValueError):
        format_amount(-1, 18)
    with pytest.raises(ValueError):
        to_decimal(1, -1)


@pytest.mark.parametrize(
    ("amount", "decimals", "raw"),
    [
        ("1.5", 6, 1_500_000),
        ("1000", 18, 1000 * 10**18),
        ("1E+3", 6, 10**9),
        ("0.1234567", 6, 123_456),  # below the smallest unit: cut
        ("0", 18, 0),
        # 29 significant digits: Decimal arithmetic would round at 28.
        ("12345678901.123456789012345678", 18, 12_345_678_901_123_456_789_012_345_678),
    ],
)
def test_whole_tokens_become_base_units_exactly(amount, decimals, raw):
    assert to_base_units(Decimal(amount), decimals) == raw
    assert to_base_units(to_decimal(raw, decimals), decimals) == raw


@pytest.mark.parametrize(("amount", "decimals"), [("-1", 18), ("NaN", 18), ("Infinity", 18), ("1", -1)])
def test_base_units_refuse_what_is_no_amount(amount, decimals):
    with pytest.raises(ValueError):
        to_base_units(Decimal(amount), decimals)
