"""Downgrades that would drop data say so and stop, unless the operator allows it.

`alembic -x allow_data_loss=1 downgrade …` (or `config.attributes["allow_data_loss"] = True`
for callers that build the Alembic config in code) lets such a downgrade go on.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import context, op

log = logging.getLogger("alembic.runtime.migration")


class DataLossRefused(RuntimeError):
    """A downgrade would drop rows and the operator did not allow it."""


def allowed() -> bool:
    """Whether this run may drop data (`-x allow_data_loss=1`)."""
    config = context.config
    if config.attributes.get("allow_data_loss"):
        return True
    return context.get_x_argument(as_dictionary=True).get("allow_data_loss", "") in ("1", "true", "yes")


def guard(what: str, count_sql: str) -> None:
    """Stop before dropping `what` (counted by `count_sql`) unless allowed; say how many go either way."""
    count = op.get_bind().execute(sa.text(count_sql)).scalar() or 0
    if not count:
        return
    if not allowed():
        raise DataLossRefused(
            f"this downgrade would drop {count} {what}; run it with `-x allow_data_loss=1` to go on"
        )
    log.warning("downgrade drops %d %s (allowed by allow_data_loss)", count, what)
