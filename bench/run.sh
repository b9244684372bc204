#!/usr/bin/env bash
# Every benchmark of the project; results are appended to bench/results.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/python bench/sign_in.py
.venv/bin/python bench/siwe_verify.py
