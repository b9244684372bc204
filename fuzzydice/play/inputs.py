"""The /launch form checked: a chain in force, an offered length, a spending limit in the chain's native coin."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

from fuzzydice.chain.networks import Network
from fuzzydice.outcome import Failure, Problem, invalid_fields
from fuzzydice.settings import Settings

AMOUNT_MAX_CHARS = 80
"""Longer input is refused before it is parsed (it is no amount anyone means)."""


@dataclass(frozen=True)
class PlayRequest:
    """A checked /launch form."""

    network: Network
    minutes: int
    spending_limit: Decimal
    """Whole native coins, at most the coin's decimals, normalized (no exponent, no trailing zeros)."""


def check_play_request(
    settings: Settings, *, chain_id: object, minutes: object, spending_limit: object
) -> PlayRequest | Failure:
    """The form as a `PlayRequest`, or INVALID_INPUT naming each bad field (`chain_id`, `minutes`, `spending_limit`).

    Numbers may come as ints or as the text a form sends (`"30"`, `"0.5"`); `spending_limit`
    is in whole units of the chain's native coin.
    """
    chain = _integer(chain_id)
    network = settings.network(chain) if chain is not None else None
    length = _integer(minutes)
    length_problem = None
    if length not in settings.play_lengths:
        choices = ", ".join(str(m) for m in settings.play_lengths[:-1])
        choices = f"{choices} or {settings.play_lengths[-1]}" if choices else str(settings.play_lengths[-1])
        length_problem = Problem("length_not_offered", {"choices": choices})
    limit, limit_problem = _amount(settings, spending_limit, network)
    problems = invalid_fields(
        chain_id=None if network is not None else Problem("chain_unknown"),
        minutes=length_problem,
        spending_limit=limit_problem,
    )
    if problems is not None:
        return problems
    assert network is not None and length is not None and limit is not None
    return PlayRequest(network=network, minutes=length, spending_limit=limit)


def decimal_text(amount: Decimal) -> str:
    """`amount` as plain decimal text (`1000`, `0.25`), never with an exponent."""
    return format(amount, "f")


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 20:
        return int(value.strip())
    return None


def _amount(settings: Settings, value: object, network: Network | None) -> tuple[Decimal | None, Problem | None]:
    """The spending limit, normalized, or the problem with it (decimals and symbol from `network` when known)."""
    if isinstance(value, bool) or value is None:
        return None, Problem("amount_required") if value is None else Problem("amount_invalid")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None, Problem("amount_required")
        if len(text) > AMOUNT_MAX_CHARS or "_" in text:  # Decimal() reads 1_000; a form should not
            return None, Problem("amount_invalid")
    elif isinstance(value, (int, Decimal)):
        text = str(value)
    else:
        return None, Problem("amount_invalid")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, Problem("amount_invalid")
    if not amount.is_finite():
        return None, Problem("amount_invalid")
    if amount < 0:
        return None, Problem("amount_negative")
    symbol = network.native_symbol if network is not None else "ETH"
    if amount > settings.play_spending_limit_max:
        return None, Problem("amount_too_large", {"max": decimal_text(settings.play_spending_limit_max), "symbol": symbol})
    digits = len(amount.as_tuple().digits)
    amount = amount.normalize(Context(prec=digits)) if amount else Decimal(0)  # exact: as many digits as given
    decimals = network.native_decimals if network is not None else 18
    if -amount.as_tuple().exponent > decimals:
        return None, Problem("too_many_decimals", {"max": decimals})
    return amount, None
