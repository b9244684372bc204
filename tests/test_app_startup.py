"""The app's start-up check: production refuses to start without its secrets or with a foreign key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = (
    "import asyncio\n"
    "from fuzzydice.fuzzydice import check_services\n"
    "async def main():\n"
    "    async with check_services():\n"
    "        print('STARTED')\n"
    "asyncio.run(main())\n"
)


def start_app(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FUZZYDICE_")}
    return subprocess.run(
        [sys.executable, "-c", START],
        cwd=ROOT,
        env={**clean, "REFLEX_TELEMETRY_ENABLED": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_production_refuses_to_start_without_secrets(db_url, tmp_path):
    result = start_app({"FUZZYDICE_MODE": "production", "FUZZYDICE_DATABASE_URL": db_url})
    assert result.returncode != 0
    assert "STARTED" not in result.stdout
    assert "FUZZYDICE_PEPPER" in result.stderr
    assert not (tmp_path / ".fuzzydice-secrets.json").exists()


def test_demo_generates_secrets_then_a_foreign_key_is_refused(db_url, tmp_path):
    secrets = tmp_path / "secrets.json"
    demo = {"FUZZYDICE_MODE": "demo", "FUZZYDICE_DATABASE_URL": db_url, "FUZZYDICE_SECRETS_FILE": str(secrets)}
    first = start_app(demo)
    assert first.returncode == 0, first.stderr
    assert "STARTED" in first.stdout and secrets.exists()
    # The secret values never reach the output.
    for value in __import__("json").loads(secrets.read_text()).values():
        assert value not in first.stdout + first.stderr

    from fuzzydice.keys import generate_key_text

    foreign = {
        "FUZZYDICE_MODE": "production",
        "FUZZYDICE_DATABASE_URL": db_url,
        "FUZZYDICE_PEPPER": generate_key_text(),
        "FUZZYDICE_AES_KEY": generate_key_text(),
        "FUZZYDICE_SIGNING_KEY": generate_key_text(),
    }
    refused = start_app(foreign)
    assert refused.returncode != 0 and "STARTED" not in refused.stdout
    assert "not the one this database was set up with" in refused.stderr
