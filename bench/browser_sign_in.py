"""Browser sign-in benchmark against a running server (default: `make run` on http://127.0.0.1:3000).

Measures, in Debian Chromium, the time from the click on "Sign in" to the home page
showing the user (sign-in event, bcrypt, ticket hand-off, cookie, full page load).
Run: start `make run`, then `.venv/bin/python bench/browser_sign_in.py [URL]`.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
import uuid
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "velvet orbit canyon 7 lantern"
RUNS = 10


def main(base: str) -> None:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    times: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        page.goto(f"{base}/register")
        page.get_by_label("Name").fill("Bench")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page).to_have_url(re.compile(r"/user/home/?$"), timeout=30_000)
        for _ in range(RUNS):
            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            start = time.perf_counter()
            page.get_by_role("button", name="Sign in", exact=True).click()
            expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=30_000)
            times.append(time.perf_counter() - start)
        browser.close()
    line = (
        f"- browser sign-in, click to home page shown ({base}, {RUNS} runs): median {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )
    record(line)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000")
