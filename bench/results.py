"""Where benchmark lines go: stdout and bench/results.md, each with its date."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"


def record(line: str) -> None:
    """Print `line` with the time and append it to bench/results.md."""
    stamped = f"{line} — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    print(stamped)
    with open(RESULTS, "a", encoding="utf-8") as out:
        out.write(stamped + "\n\n")
