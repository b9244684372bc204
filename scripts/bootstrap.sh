#!/usr/bin/env bash
# Install whatever the project needs and is missing; fast no-op when all is present.
#
#   scripts/bootstrap.sh            Python venv (+ requirements) and bun
#   scripts/bootstrap.sh --browser  also Debian Chromium for the browser tests
#
# Safe to run with no stdin (CI). Never runs `playwright install`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
TOOLS="$ROOT/.tools"
BUN="$TOOLS/node_modules/.bin/bun"
BUN_VERSION="${BUN_VERSION:-1.4.5}"   # Reflex 0.10.1 needs bun >= 1.4.4
REQ_STAMP="$VENV/.requirements.sha256"

want_browser=0
for arg in "$@"; do
    case "$arg" in
        --browser) want_browser=1 ;;
        *) echo "bootstrap: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

log() { echo "bootstrap: $*" >&2; }

# Run as root directly, otherwise through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

# --- Python virtualenv ----------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    log "creating .venv with $PYTHON ($("$PYTHON" --version 2>&1))"
    if ! "$PYTHON" -m venv "$VENV"; then
        # Debian splits ensurepip out of the interpreter package.
        rm -rf "$VENV"
        apt_install python3-venv
        "$PYTHON" -m venv "$VENV"
    fi
    rm -f "$REQ_STAMP"
fi

# constraints.txt pins the transitive versions (a pip freeze of the tested venv).
req_hash="$(cat requirements.txt constraints.txt 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$REQ_STAMP" 2>/dev/null || true)" != "$req_hash" ]; then
    log "installing requirements.txt (constraints.txt) into .venv"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r requirements.txt -c constraints.txt
    echo "$req_hash" > "$REQ_STAMP"
fi

# --- bun (Reflex's JS runtime; its own download needs internet we lack) ---------
bun_ok() { [ -x "$BUN" ] && "$BUN" --version >/dev/null 2>&1; }
if ! bun_ok; then
    if ! command -v npm >/dev/null 2>&1; then
        log "npm missing: installing Debian nodejs + npm"
        apt_install nodejs npm
    fi
    log "installing bun@$BUN_VERSION into .tools from the npm registry"
    npm install --prefix "$TOOLS" --no-audit --no-fund "bun@$BUN_VERSION"
    if ! bun_ok; then
        # A newer npm may block the postinstall that puts the binary in place.
        log "bun does not run yet; retrying with --allow-scripts=bun"
        npm install --prefix "$TOOLS" --no-audit --no-fund --allow-scripts=bun "bun@$BUN_VERSION"
    fi
    bun_ok || { log "bun still does not run: $BUN"; exit 1; }
    log "bun $("$BUN" --version) ready"
fi

# --- later: more local services ---------------------------------------------------
# HOOK: add here, each guarded by a cheap "already present?" check like the above:
#   - anvil: `npm install --prefix .tools @foundry-rs/anvil` (binary under .tools, start it by path)
#   - PostgreSQL (Debian apt) for the PostgreSQL run of the suite
#   - Redis (Debian apt) for REFLEX_REDIS_URL / multi-worker runs

# --- browser for the end-to-end tests ------------------------------------------
if [ "$want_browser" -eq 1 ] && [ ! -x /usr/bin/chromium ]; then
    log "installing Debian chromium"
    apt_install chromium
    [ -x /usr/bin/chromium ] || { log "chromium missing after apt-get install"; exit 1; }
fi
