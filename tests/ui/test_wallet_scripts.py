"""Words for what a wallet answers (fuzzydice/ui/wallet_scripts.py)."""

from __future__ import annotations

from fuzzydice.ui.wallet_scripts import wallet_error_message


def test_a_declined_request_is_said_plainly() -> None:
    assert wallet_error_message("4001") == "You declined the request in your wallet."


def test_the_wallets_own_words_end_in_one_full_stop() -> None:
    said = wallet_error_message("-32602", "Invalid chain parameters.")
    assert said == "Your wallet reported an error: Invalid chain parameters. Please try again."
    assert ".." not in said


def test_the_wallets_words_are_bounded() -> None:
    assert len(wallet_error_message("-1", "x" * 5000)) < 300
