#!/usr/bin/env bash
# Install whatever the project needs and is missing; fast no-op when all is present.
#
#   scripts/bootstrap.sh            Python venv (+ requirements), bun, anvil and solc
#   scripts/bootstrap.sh --browser  also Debian Chromium and PostgreSQL for the tests (`make test`)
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
ANVIL_VERSION="${ANVIL_VERSION:-1.7.1}"   # npm @foundry-rs/anvil (the dev chain)
SOLC_VERSION="${SOLC_VERSION:-0.8.37}"    # npm solc (solc-js, compiles contracts/)
OZ_VERSION="${OZ_VERSION:-5.7.0}"         # npm @openzeppelin/contracts (ERC20 of contracts/TestToken.sol)

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

# --- anvil (dev chain), solc-js and OpenZeppelin (contracts/build.mjs) -----------
# .tools/node_modules/.bin/anvil is a node shim that spawns the real binary as a
# child; we start the binary itself (fuzzydice/chain/devchain.py resolves it the
# same way) so that its PID is the process to stop.
anvil_bin() {
    local os arch
    case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os=unknown ;; esac
    case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=unknown ;; esac
    local c
    for c in "$TOOLS/node_modules/@foundry-rs/anvil-$os-$arch/bin/anvil" \
             "$TOOLS/node_modules/@foundry-rs/anvil/anvil"; do
        [ -x "$c" ] && { echo "$c"; return 0; }
    done
    return 1
}
anvil_ok() {
    local bin
    bin="$(anvil_bin)" || return 1
    [ "$("$bin" --version 2>/dev/null | sed -n 's/^anvil Version: //p')" = "$ANVIL_VERSION" ]
}
solc_ok() {
    [ -f "$TOOLS/node_modules/solc/soljson.js" ] &&
        grep -q "\"version\": \"$SOLC_VERSION\"" "$TOOLS/node_modules/solc/package.json" 2>/dev/null
}
oz_ok() {
    [ -f "$TOOLS/node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol" ] &&
        grep -q "\"version\": \"$OZ_VERSION\"" "$TOOLS/node_modules/@openzeppelin/contracts/package.json" 2>/dev/null
}
if ! anvil_ok || ! solc_ok || ! oz_ok; then
    command -v npm >/dev/null 2>&1 || { log "npm missing: installing Debian nodejs + npm"; apt_install nodejs npm; }
    log "installing @foundry-rs/anvil@$ANVIL_VERSION, solc@$SOLC_VERSION and @openzeppelin/contracts@$OZ_VERSION into .tools"
    # The platform binary comes as an optional dependency (@foundry-rs/anvil-<os>-<arch>);
    # the package's postinstall only downloads it when that is missing.
    npm install --prefix "$TOOLS" --no-audit --no-fund --save-exact \
        "@foundry-rs/anvil@$ANVIL_VERSION" "solc@$SOLC_VERSION" "@openzeppelin/contracts@$OZ_VERSION"
    if ! anvil_ok; then
        log "anvil binary missing; retrying with --allow-scripts=@foundry-rs/anvil (postinstall download)"
        npm install --prefix "$TOOLS" --no-audit --no-fund --save-exact \
            --allow-scripts=@foundry-rs/anvil "@foundry-rs/anvil@$ANVIL_VERSION"
    fi
    anvil_ok || { log "anvil $ANVIL_VERSION does not run (looked under $TOOLS/node_modules/@foundry-rs)"; exit 1; }
    solc_ok || { log "solc $SOLC_VERSION missing under $TOOLS/node_modules/solc"; exit 1; }
    oz_ok || { log "@openzeppelin/contracts $OZ_VERSION missing under $TOOLS/node_modules/@openzeppelin"; exit 1; }
    log "anvil $ANVIL_VERSION ($(anvil_bin)), solc $SOLC_VERSION and @openzeppelin/contracts $OZ_VERSION ready"
fi

# --- PostgreSQL for the suite's second database run (tests/postgres_server.py) ----------
# Only the binaries are needed: the tests start a private cluster of their own (as the
# `postgres` user, on a free port of 127.0.0.1) and stop it by PID.
pg_ok() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; }
if [ "$want_browser" -eq 1 ] && ! pg_ok; then
    log "installing Debian postgresql (binaries for the tests' private cluster)"
    apt_install postgresql
    pg_ok || { log "PostgreSQL binaries missing under /usr/lib/postgresql/*/bin after apt-get install"; exit 1; }
fi

# --- later: more local services ---------------------------------------------------
# HOOK: add here, each guarded by a cheap "already present?" check like the above:
#   - Redis (Debian apt) for REFLEX_REDIS_URL / multi-worker runs

# --- browser for the end-to-end tests ------------------------------------------
if [ "$want_browser" -eq 1 ] && [ ! -x /usr/bin/chromium ]; then
    log "installing Debian chromium"
    apt_install chromium
    [ -x /usr/bin/chromium ] || { log "chromium missing after apt-get install"; exit 1; }
fi
