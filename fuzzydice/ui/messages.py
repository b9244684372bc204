"""Failure codes in words: the one place the UI turns a flow's `Failure` into text.

Numbers come from the failure (attempts left, when a lock lifts) or from settings,
never from copies of the policy in page code. Field problems are worded by
`field_message`. Every `Code` has words here (a test checks it).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from fuzzydice.outcome import Code, Failure, Problem
from fuzzydice.ratelimit import wait_in_words
from fuzzydice.settings import Settings

_WORDS: dict[Code, str] = {
    Code.INVALID_INPUT: "Please check the highlighted fields.",
    Code.SESSION_ENDED: "Your session has ended. Please sign in again.",
    Code.NOT_FRESH: "Confirm it's you with your second factor first.",
    Code.NEEDS_WALLET_FIRST: "Sign the message with your wallet first, then enter the code.",
    Code.BUSY: "The server is busy. Please try again in a few seconds.",
    Code.RATE_LIMITED: "Too many attempts. Please try again later.",
    Code.WRONG_CREDENTIALS: "Email or password is incorrect.",
    Code.ACCOUNT_DISABLED: "This account is disabled. Please contact the operator of this site.",
    Code.EMAIL_TAKEN: "An account with this email already exists. Sign in instead.",
    Code.WRONG_CODE: "That code is not right.",
    Code.CODE_ALREADY_USED: "That code was already used. Wait for the next code in your app.",
    Code.LOCKED: "Too many wrong codes.",
    Code.EXPIRED: "This request has expired. Please start again.",
    Code.ALREADY_ENROLLED: "This account already has an authenticator. Sign in again with it.",
    Code.FACTOR_NOT_ENROLLED: "That method is not set up for this account.",
    Code.METHOD_NOT_OFFERED: "That method cannot be used for this step. Choose another one.",
    Code.LAST_FACTOR: "This is your only second factor: add another one before removing it.",
    Code.WALLET_TAKEN: "This wallet already belongs to another account.",
    Code.WRONG_WALLET: "That is not a wallet of this account.",
    Code.HAS_PASSWORD: "This account already has a password: change it with the current one.",
    Code.LAST_IDENTITY: "This is the only way to sign in to this account: add another one before removing it.",
    Code.IDENTITY_NOT_FOUND: "That sign-in method is not linked to this account.",
    Code.CHALLENGE_UNKNOWN: "The sign-in request expired. Please try again.",
    Code.SIGNATURE_INVALID: "The signature could not be verified. Please try again.",
    Code.CHAIN_NOT_SUPPORTED: "Your wallet is on a network this site does not accept. Switch networks and try again.",
    Code.CHAIN_UNAVAILABLE: "The network could not be reached to check this wallet. Please try again.",
    Code.NO_WALLET: "No wallet was found in this browser.",
    Code.SEND_FAILED: "The message could not be sent. Please try again in a moment.",
    Code.FAUCET_OFF: "There is no faucet here: send funds to your address from another wallet.",
    Code.FAUCET_USED: "This wallet already received test funds on this network today.",
    Code.FAUCET_LIMIT: "Your account received all the test funds it may take today.",
    Code.FAUCET_SEND_FAILED: "The test funds could not be sent. Nothing was used up: please try again in a moment.",
    Code.PLAY_RUNNING: "A play session is already running. End it before starting another one.",
    Code.PLAY_NOT_FOUND: "That play session was not found.",
}


def _clock_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%H:%M UTC")


def _attempts(left: int) -> str:
    return f"{left} attempt{'s' if left != 1 else ''} left."


def say(failure: Failure, settings: Settings | None = None, *, now: datetime | None = None) -> str:
    """The words for `failure`, with its numbers.

    `now` lets a lock or a rate limit say how long to wait ("in 4 minutes"); without
    it the time it lifts is given on the clock.
    """
    code = failure.code
    base = _WORDS[code]
    if code == Code.WRONG_CODE:
        if failure.attempts_left:
            return f"{base} {_attempts(failure.attempts_left)}"
        return f"{base} {_locked(failure, settings, now)}"
    if code == Code.LOCKED:
        return _locked(failure, settings, now)
    if code == Code.CHAIN_NOT_SUPPORTED and settings is not None:
        return _chain_not_supported(failure, settings)
    if code in (Code.FAUCET_USED, Code.FAUCET_LIMIT) and failure.retry_at is not None:
        return f"{base} {_available_again(failure.retry_at, now)}"
    if code in (Code.RATE_LIMITED, Code.BUSY) and failure.retry_at is not None and now is not None:
        wait = failure.retry_at - now
        lead = "Too many attempts." if code == Code.RATE_LIMITED else "The server is busy."
        return f"{lead} Try again in {wait_in_words(wait)}."
    return base


def _chain_not_supported(failure: Failure, settings: Settings) -> str:
    """Name the wallet's network (`detail`) and the ones this server accepts."""
    allowed = [network.name for network in settings.active_networks]
    if not allowed:
        return "Wallet sign-in is not set up on this server yet."
    known = (failure.detail or "").isdigit() and any(
        network.chain_id == int(failure.detail) for network in (*settings.networks, *settings.demo_networks)
    )
    on = f"Your wallet is on {settings.network_name(int(failure.detail))}" if known else "Your wallet is on a network"
    choices = allowed[0] if len(allowed) == 1 else f"{', '.join(allowed[:-1])} or {allowed[-1]}"
    return f"{on}, which this site does not use. Switch to {choices} and try again."


def _available_again(when: datetime, now: datetime | None) -> str:
    """When the faucet serves again: on the clock, with the wait when `now` is known (hours past 90 minutes)."""
    at = _clock_time(when)
    if now is None or when <= now:
        return f"It is available again after {at}."
    wait = when - now
    minutes = math.ceil(wait.total_seconds() / 60)
    if minutes > 90:
        hours = math.ceil(minutes / 60)
        return f"It is available again in {hours} hours (at {at})."
    return f"It is available again in {wait_in_words(wait)} (at {at})."


def _locked(failure: Failure, settings: Settings | None, now: datetime | None) -> str:
    """A lock in plain words, with when it lifts (the user proved the first factor: say so)."""
    lead = "Too many wrong codes, so this step is locked for now."
    if failure.retry_at is not None:
        when = _clock_time(failure.retry_at)
        if now is not None and failure.retry_at > now:
            return f"{lead} Try again in {wait_in_words(failure.retry_at - now)} (at {when})."
        return f"{lead} Try again after {when}."
    if settings is not None:
        return f"{lead} Try again in {wait_in_words(settings.second_factor_lock)}."
    return f"{lead} Try again later."


_FIELD_WORDS: dict[str, str] = {
    "name_required": "Enter your name.",
    "email_required": "Enter your email address.",
    "email_invalid": "Enter a valid email address.",
    "email_taken": _WORDS[Code.EMAIL_TAKEN],
    "too_short": "Use at least {min} characters.",
    "too_long": "Use at most {max} characters.",
    "phone_not_international": "Enter the number in international format, starting with + and the country code.",
    "phone_unparsable": "That does not look like a phone number.",
    "phone_invalid": "That phone number is not valid for its country.",
    "password_weak": "This password is easy to guess.",
    "no_network": "Your wallet did not say which network it is on. Please try again.",
    "address_invalid": "The wallet gave an unusable address. An address is 0x followed by 40 hexadecimal digits.",
    "address_checksum": "The wallet gave an address with a wrong checksum (a typo in its upper/lower case letters).",
    "origin_unknown": "This page's address is unknown; reload it and try again.",
    "chain_unknown": "Choose one of the networks offered.",
    "length_not_offered": "Choose a length of {choices} minutes.",
    "amount_required": "Enter a spending limit.",
    "amount_invalid": "Enter a number, like 0.5.",
    "amount_negative": "The spending limit cannot be negative.",
    "too_many_decimals": "Use at most {max} decimal places.",
    "amount_too_large": "Enter at most {max} {symbol}.",
}


def field_message(problem: Problem) -> str:
    """The words for one field's problem, with its parameters."""
    params = dict(problem.params)
    if problem.code == "email_invalid" and params.get("reason"):
        return f"Enter a valid email address ({params['reason']})."
    if problem.code == "password_weak":
        # zxcvbn's warning and suggestions (its own words) when it gave any.
        return " ".join(filter(None, [params.get("warning") or _FIELD_WORDS["password_weak"], params.get("suggestions")]))
    template = _FIELD_WORDS.get(problem.code)
    if template is None:
        return "This value is not valid."
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def field_messages(failure: Failure) -> dict[str, str]:
    """Each field's problem in words (for forms)."""
    return {name: field_message(problem) for name, problem in failure.fields.items()}


def explain(failure: Failure) -> str:
    """A failure in words for page states: `say` with this server's settings and clock.

    A failure that names bad fields says what is wrong with each of them instead (for a
    page that shows it in one place, like the wallet panel, with no field to highlight).
    """
    if failure.fields:
        return " ".join(field_messages(failure).values())
    from fuzzydice.services import get_services

    services = get_services()
    return say(failure, services.settings, now=services.clock.now())


def password_hint(settings: Settings) -> str:
    """The hint under a new password, with the lengths this server accepts."""
    return (
        f"{settings.password_min_length} to {settings.password_max_length} characters. "
        "A few unusual words make a strong password."
    )


def remember_label(settings: Settings) -> str:
    """The "remember me" choice, with how long this server remembers."""
    days = settings.remember_absolute.days
    return f"Remember me for {days} day{'s' if days != 1 else ''}"
