"""The demo outbox page exists in demo mode only; elsewhere its route is not registered and its state is refused.

The app module is imported in child processes (as in test_page_access): importing it
here would leave its states behind for the app-running tests of the same session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzzydice.auth.sessions import FULL

ROOT = Path(__file__).resolve().parents[2]

REPORT = """
import json
import fuzzydice.fuzzydice as app_module
from fuzzydice.ui.pages.outbox import OutboxState

rule = app_module.guard.rules.get(OutboxState.get_full_name())
print(json.dumps({
    "routes": sorted(app_module.app._unevaluated_pages),
    "level": None if rule is None else rule.level_of("on_load"),
}))
"""


def app_report(tmp_path: Path, mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUZZYDICE_")}
    env.update(
        REFLEX_TELEMETRY_ENABLED="0",
        REFLEX_CHECK_LATEST_VERSION="0",
        FUZZYDICE_MODE=mode,
        FUZZYDICE_DATABASE_URL=f"sqlite:///{tmp_path / 'fd.db'}",
        FUZZYDICE_SECRETS_FILE=str(tmp_path / "secrets.json"),
        # Reflex's disk state manager lists its folder on start: a shared one races other runs of the app.
        REFLEX_STATES_WORKDIR=str(tmp_path / "states"),
    )
    result = subprocess.run(
        [sys.executable, "-c", REPORT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["production", "demo"])
def test_the_outbox_page_is_registered_in_demo_mode_only(tmp_path: Path, mode: str) -> None:
    report = app_report(tmp_path, mode)
    assert "login" in report["routes"]  # the app did register its pages
    if mode == "demo":
        assert "demo/outbox" in report["routes"]
        assert report["level"] == 0  # public: a new user reads the code before they can sign in
    else:
        assert "demo/outbox" not in report["routes"]
        assert report["level"] > FULL  # no session, however signed in, may load its rows
