"""Per-file tally of the SIWE reference vectors, printed at the end of the run."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

_VECTOR_ID = re.compile(
    r"\[(parsing_positive|parsing_negative_objects|parsing_negative|verification_positive|verification_negative)"
    r":(.*)\]$"
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print ``<file>: passed/total`` vectors; a vector passes when every test case using it passed."""
    outcomes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            match = _VECTOR_ID.search(nodeid)
            if "tests/siwe/" not in nodeid or match is None:
                continue
            if outcome == "passed" and getattr(report, "when", "call") != "call":
                continue
            outcomes[(match.group(1), match.group(2))].add(outcome)
    if not outcomes:
        return
    passed: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for (name, _vector), seen in outcomes.items():
        total[name] += 1
        passed[name] += seen == {"passed"}
    terminalreporter.write_sep("-", "SIWE reference vectors (passed/total)")
    for name in sorted(total):
        terminalreporter.write_line(f"{name}: {passed[name]}/{total[name]}")
