"""`reflex init` (and `reflex run`/`export` on a checkout without `.web`) leaves our .gitignore as it is."""

from __future__ import annotations

import shutil
from pathlib import Path

from reflex.utils.frontend_skeleton import initialize_gitignore
from reflex_base import constants

ROOT = Path(__file__).resolve().parent.parent


def test_reflex_finds_every_entry_it_wants_and_rewrites_nothing(tmp_path):
    ours = tmp_path / ".gitignore"
    shutil.copyfile(ROOT / ".gitignore", ours)
    before = ours.read_bytes()

    initialize_gitignore(gitignore_file=ours)  # the call `reflex init` makes, with Reflex's default entries

    assert ours.read_bytes() == before
    lines = before.decode().splitlines()
    assert set(constants.GitIgnore.DEFAULTS) <= set(lines)
    assert all(line == line.strip() for line in lines)  # Reflex strips each line when it rewrites the file


def test_a_missing_entry_would_be_added_on_a_run(tmp_path):
    """The check above is not vacuous: Reflex does rewrite a file that lacks one of its entries."""
    ours = tmp_path / ".gitignore"
    ours.write_text("".join(f"{line}\n" for line in (ROOT / ".gitignore").read_text().splitlines() if line != ".web"))
    before = ours.read_bytes()

    initialize_gitignore(gitignore_file=ours)

    assert ours.read_bytes() != before
    assert ours.read_text().splitlines()[0] == ".web"
