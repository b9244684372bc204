"""Operator commands: `python -m fuzzydice.admin disable|enable <email or wallet address>`.

Works on the database of `FUZZYDICE_DATABASE_URL`; needs no secrets.
"""

from __future__ import annotations

import argparse
import sys

from fuzzydice.auth.account_status import find_account, set_disabled
from fuzzydice.clock import SystemClock
from fuzzydice.db import make_engine, new_session
from fuzzydice.settings import Settings


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    """Run one operator command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m fuzzydice.admin", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["disable", "enable"], help="disable: no sign-in, sessions end; enable: undo")
    parser.add_argument("account", help="the account's email or wallet address")
    args = parser.parse_args(argv)
    engine = make_engine((settings or Settings()).database_url)
    try:
        with new_session(engine) as session:
            user_id = find_account(session, args.account)
            if user_id is None:
                print(f"No account with the email or wallet address {args.account!r}.", file=sys.stderr)
                return 1
            changed = set_disabled(session, user_id, args.action == "disable", SystemClock().now())
    finally:
        engine.dispose()
    state = "disabled" if args.action == "disable" else "enabled"
    print(f"Account {user_id} {'is now' if changed else 'was already'} {state}.")
    return 0


if __name__ == "__main__":  # pragma: no cover - operator entry point
    sys.exit(main())
