"""Attack tests: each reproduces an attack and fails when the defence is gone.

Tests that need the running app use the fixtures of `tests/app_fixtures.py`
(one production build per session, Chromium through Playwright); they run last.
"""
