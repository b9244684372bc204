"""Token amounts in human units: exact Decimals from base units, and short text for people.

No float anywhere: `raw` base units are integers, whole tokens are `Decimal`s built exactly
(the constructor never rounds; `scaleb` would, at the context's 28 digits), and text is
cut with integer arithmetic, so 2**256 - 1 wei is shown digit for digit.
"""

from __future__ import annotations

from decimal import Decimal

DISPLAY_PLACES = 4
"""Decimal places shown; smaller non-zero amounts read "< 0.0001"."""


def to_decimal(raw: int, decimals: int) -> Decimal:
    """`raw` base units as an exact Decimal of whole tokens (e.g. 1500000, 6 → Decimal("1.500000"))."""
    if decimals < 0:
        raise ValueError("decimals must not be negative")
    return Decimal(f"{int(raw)}E-{decimals}")


def to_base_units(amount: Decimal, decimals: int) -> int:
    """Whole tokens as base units, exact (digits below the smallest unit are cut): (Decimal("1.5"), 6) → 1500000.

    Integer arithmetic on the digits: Decimal multiplication would round at the context's 28 digits.

    Raises:
        ValueError: `amount` is negative or not finite, or `decimals` is negative.
    """
    if decimals < 0:
        raise ValueError("decimals must not be negative")
    if not amount.is_finite() or amount < 0:
        raise ValueError("amounts are finite and never negative")
    _, digits, exponent = amount.as_tuple()
    coefficient = int("".join(map(str, digits)) or "0")
    shift = int(exponent) + decimals
    return coefficient * 10**shift if shift >= 0 else coefficient // 10**-shift


def format_amount(raw: int, decimals: int, symbol: str = "", places: int = DISPLAY_PLACES) -> str:
    """`raw` base units as text: thousands separated, cut (never rounded up) to `places`, trailing zeros trimmed.

    Examples (decimals 18, symbol DICE): 1234567800000000000000 → "1,234.5678 DICE",
    1500000000000000000 → "1.5 DICE", 0 → "0 DICE", 10**13 → "< 0.0001 DICE".
    Cutting rather than rounding never shows more than is there.
    """
    raw = int(raw)
    if raw < 0 or decimals < 0 or places < 0:
        raise ValueError("amounts, decimals and places are never negative (the direction is shown apart)")
    whole, fraction = divmod(raw, 10**decimals)
    shown = fraction * 10**places // 10**decimals  # the first `places` digits of the fraction, cut
    if whole == 0 and shown == 0 and fraction:
        text = f"< {to_decimal(1, places)}"
    else:
        digits = f"{shown:0{places}d}".rstrip("0") if places else ""
        text = f"{whole:,}" + (f".{digits}" if digits else "")
    return f"{text} {symbol}" if symbol else text
