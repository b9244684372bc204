#!/usr/bin/env bash
# Run CMD with a local dev chain beside it, and stop the chain when CMD ends.
#
#   scripts/with-devchain.sh CMD [ARG...]
#
# In demo mode (FUZZYDICE_MODE=demo, as make run / make dev set it) this starts anvil on
# 127.0.0.1:8545 with chain id 31337 (the demo chain of fuzzydice/settings.py) unless
# something already answers eth_chainId there, records its PID in .devchain/, runs CMD as a
# child and waits for it; on exit (CMD ends, Ctrl-C, SIGTERM) it stops anvil by that PID.
# In any other mode, or with FUZZYDICE_DEVCHAIN=0, it just runs CMD.
#
#   FUZZYDICE_DEVCHAIN_PORT      default 8545
#   FUZZYDICE_DEVCHAIN_CHAIN_ID  default 31337
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
HOST=127.0.0.1
PORT="${FUZZYDICE_DEVCHAIN_PORT:-8545}"
CHAIN_ID="${FUZZYDICE_DEVCHAIN_CHAIN_ID:-31337}"
PID_DIR="$ROOT/.devchain"
PID_FILE="$PID_DIR/anvil-$PORT.pid"   # "<anvil pid> <wrapper pid>"
READY_TRIES=100                        # x 0.1 s: anvil answers in ~0.1 s
STOP_TRIES=50                          # x 0.1 s before SIGKILL

log() { echo "with-devchain: $*" >&2; }

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }

if [ "${FUZZYDICE_MODE:-production}" != demo ] || [ "${FUZZYDICE_DEVCHAIN:-1}" = 0 ]; then
    exec "$@"
fi

probe() { (cd "$ROOT" && "$PY" -m fuzzydice.chain.devchain --probe --host "$HOST" --port "$PORT" 2>/dev/null); }
alive() { kill -0 "$1" 2>/dev/null; }

ANVIL_PID=""
CHILD_PID=""

# Stop a process by PID: SIGTERM, bounded wait, then SIGKILL.
stop_pid() {
    local pid="$1" i
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < STOP_TRIES; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    log "PID $pid ignored SIGTERM for $((STOP_TRIES / 10)) s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    if [ -n "$CHILD_PID" ]; then
        if [ "$SIGNAL" = INT ]; then   # CMD got the same Ctrl-C: give it time to shut down
            for ((i = 0; i < STOP_TRIES; i++)); do alive "$CHILD_PID" || break; sleep 0.1; done
        fi
        stop_pid "$CHILD_PID"
    fi
    if [ -n "$ANVIL_PID" ]; then
        stop_pid "$ANVIL_PID"
        wait "$ANVIL_PID" 2>/dev/null || true   # reap it (when it is our child)
        rm -f "$PID_FILE"
    fi
    exit "$rc"
}
# Ctrl-C reaches the whole foreground process group (CMD included): let CMD finish
# its own shutdown (cleanup waits, bounded). SIGTERM to this script alone is passed on.
SIGNAL=""
on_int() { SIGNAL=INT; exit 130; }
on_term() { SIGNAL=TERM; exit 143; }
trap cleanup EXIT
trap on_int INT
trap on_term TERM

mkdir -p "$PID_DIR"
answering="$(probe)"
if [ -n "$answering" ]; then
    # A chain left behind by a wrapper that was killed (its PID file names a live anvil
    # and a dead wrapper) is adopted and stopped at exit; anyone else's is only used.
    old_anvil="" old_wrapper=""
    [ -f "$PID_FILE" ] && read -r old_anvil old_wrapper _ <"$PID_FILE"
    if [ -n "$old_anvil" ] && alive "$old_anvil" && ! alive "${old_wrapper:-0}" &&
        ps -o args= -p "$old_anvil" 2>/dev/null | grep -q "anvil .*--port $PORT "; then
        ANVIL_PID="$old_anvil"
        echo "$ANVIL_PID $$" >"$PID_FILE"
        log "adopting anvil PID $ANVIL_PID left on $HOST:$PORT by an earlier run"
    else
        log "chain id $answering already answers on $HOST:$PORT; using it (not started here, not stopped here)"
    fi
    [ "$answering" = "$CHAIN_ID" ] || log "warning: expected chain id $CHAIN_ID there, got $answering"
else
    # python execs anvil, so $! is anvil's own PID; background jobs get SIGINT ignored,
    # which is fine here: anvil is stopped with SIGTERM by cleanup.
    (cd "$ROOT" && exec "$PY" -m fuzzydice.chain.devchain --host "$HOST" --port "$PORT" --chain-id "$CHAIN_ID") \
        </dev/null &
    ANVIL_PID=$!
    echo "$ANVIL_PID $$" >"$PID_FILE"
    for ((i = 0; i < READY_TRIES; i++)); do
        alive "$ANVIL_PID" || { log "anvil exited before answering on $HOST:$PORT"; ANVIL_PID=""; exit 1; }
        answering="$(probe)" && break
        sleep 0.1
    done
    if [ -z "$answering" ]; then
        log "anvil did not answer eth_chainId on $HOST:$PORT within $((READY_TRIES / 10)) s"
        exit 1
    fi
    log "anvil (PID $ANVIL_PID) serves chain id $answering on http://$HOST:$PORT"
fi

# CMD runs as a child so the traps above still fire. A non-interactive shell starts
# background jobs with SIGINT ignored and stdin from /dev/null; restore both so CMD
# behaves as in the foreground (Ctrl-C stops it, it reads the terminal).
"$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
    "$@" <&0 &
CHILD_PID=$!
wait "$CHILD_PID"
rc=$?
CHILD_PID=""
exit "$rc"
