#!/usr/bin/env bash
# Every benchmark of the project; results are appended to bench/results.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/python bench/sign_in.py
.venv/bin/python bench/siwe_verify.py
# Starts two demo anvils of its own on free loopback ports (stopped by PID when done).
.venv/bin/python bench/balances.py
# Starts its own production server on a free port (rebuilds .web/: not beside another run of the app).
if [ -x /usr/bin/chromium ]; then
    .venv/bin/python bench/browser_sign_in.py
else
    echo "bench/run.sh: /usr/bin/chromium missing (make test installs it): browser sign-in not measured" >&2
fi
