#!/usr/bin/env bash
# Run CMD with the two local demo chains beside it, and stop them when CMD ends.
#
#   scripts/with-devchain.sh CMD [ARG...]
#
# In demo mode (FUZZYDICE_MODE=demo, as make run / make dev set it) this starts one anvil per
# demo network of fuzzydice/settings.py: the L1 (chain id 31337) on 127.0.0.1:8545 and the L2
# stand-in (chain id 31338) on 127.0.0.1:8546, each unless something already answers eth_chainId
# on its port, and records each PID in .devchain/. Once both answer it runs the deploy step
# (python -m fuzzydice.chain.demo_deploy: test tokens and the multicall; a chain already deployed
# is left as is), then runs CMD as a child and waits for it. On exit (CMD ends, Ctrl-C, SIGTERM)
# it stops the chains it started by their PIDs. A chain left behind by a wrapper that was killed
# is adopted (and stopped at exit); any other chain already answering is used and left running.
# In any other mode, or with FUZZYDICE_DEVCHAIN=0, it just runs CMD.
#
#   FUZZYDICE_DEVCHAIN_PORT     L1 port, default 8545
#   FUZZYDICE_DEVCHAIN_L2_PORT  L2 port, default 8546
# With a port other than the default and FUZZYDICE_CHAINS unset, CMD gets FUZZYDICE_CHAINS naming
# both chains' URLs, so the app reads the chains started here.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
HOST=127.0.0.1
CHAIN_IDS=(31337 31338)                # the demo networks (fuzzydice/chain/networks.py)
DEFAULT_PORTS=(8545 8546)
PORTS=("${FUZZYDICE_DEVCHAIN_PORT:-8545}" "${FUZZYDICE_DEVCHAIN_L2_PORT:-8546}")
PID_DIR="$ROOT/.devchain"
READY_TRIES=100                        # x 0.1 s: anvil answers in ~0.1 s
STOP_TRIES=50                          # x 0.1 s before SIGKILL

log() { echo "with-devchain: $*" >&2; }

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }

if [ "${FUZZYDICE_MODE:-production}" != demo ] || [ "${FUZZYDICE_DEVCHAIN:-1}" = 0 ]; then
    exec "$@"
fi

[ "${PORTS[0]}" != "${PORTS[1]}" ] || { log "the L1 and L2 chains need two ports (both are ${PORTS[0]})"; exit 2; }

probe() { (cd "$ROOT" && "$PY" -m fuzzydice.chain.devchain --probe --host "$HOST" --port "$1" 2>/dev/null); }
alive() { kill -0 "$1" 2>/dev/null; }
pid_file() { echo "$PID_DIR/anvil-$1.pid"; }   # "<anvil pid> <wrapper pid>"

ANVIL_PIDS=("" "")                     # the chains this run stops at exit (started or adopted)
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
    for i in 0 1; do
        [ -n "${ANVIL_PIDS[i]}" ] || continue
        stop_pid "${ANVIL_PIDS[i]}"
        wait "${ANVIL_PIDS[i]}" 2>/dev/null || true   # reap it (when it is our child)
        rm -f "$(pid_file "${PORTS[i]}")"
    done
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

# Start (or adopt, or just use) the chain of index $1; a started one is awaited below.
STARTED=("" "")
start_chain() {
    local i="$1" port="${PORTS[$1]}" chain_id="${CHAIN_IDS[$1]}" answering file old_anvil="" old_wrapper=""
    file="$(pid_file "$port")"
    answering="$(probe "$port")"
    if [ -n "$answering" ]; then
        # A chain left behind by a wrapper that was killed (its PID file names a live anvil
        # and a dead wrapper) is adopted and stopped at exit; anyone else's is only used.
        [ -f "$file" ] && read -r old_anvil old_wrapper _ <"$file"
        if [ -n "$old_anvil" ] && alive "$old_anvil" && ! alive "${old_wrapper:-0}" &&
            ps -o args= -p "$old_anvil" 2>/dev/null | grep -q "anvil .*--port $port "; then
            ANVIL_PIDS[i]="$old_anvil"
            echo "$old_anvil $$" >"$file"
            log "adopting anvil PID $old_anvil left on $HOST:$port by an earlier run"
        else
            log "chain id $answering already answers on $HOST:$port; using it (not started here, not stopped here)"
        fi
        [ "$answering" = "$chain_id" ] ||
            log "warning: expected chain id $chain_id on $HOST:$port, got $answering (stop that node or set another port)"
    else
        # python execs anvil, so $! is anvil's own PID; background jobs get SIGINT ignored,
        # which is fine here: anvil is stopped with SIGTERM by cleanup.
        (cd "$ROOT" && exec "$PY" -m fuzzydice.chain.devchain --host "$HOST" --port "$port" --chain-id "$chain_id") \
            </dev/null &
        ANVIL_PIDS[i]=$!
        STARTED[i]=1
        echo "${ANVIL_PIDS[i]} $$" >"$file"
    fi
}

# Wait until the chain of index $1 (started here) answers.
await_chain() {
    local i="$1" port="${PORTS[$1]}" pid="${ANVIL_PIDS[$1]}" answering="" n
    for ((n = 0; n < READY_TRIES; n++)); do
        if ! alive "$pid"; then
            log "anvil exited before answering on $HOST:$port"
            ANVIL_PIDS[i]=""
            rm -f "$(pid_file "$port")"
            exit 1
        fi
        answering="$(probe "$port")" && break
        sleep 0.1
    done
    if [ -z "$answering" ]; then
        log "anvil did not answer eth_chainId on $HOST:$port within $((READY_TRIES / 10)) s"
        exit 1
    fi
    log "anvil (PID $pid) serves chain id $answering on http://$HOST:$port"
}

start_chain 0
start_chain 1
for i in 0 1; do
    [ -z "${STARTED[i]}" ] || await_chain "$i"
done

# The deploy step: test tokens and the multicall on both chains (idempotent).
deploy_args=()
for i in 0 1; do deploy_args+=(--chain-id "${CHAIN_IDS[i]}" --rpc "http://$HOST:${PORTS[i]}"); done
if ! (cd "$ROOT" && "$PY" -m fuzzydice.chain.demo_deploy "${deploy_args[@]}") >&2; then
    log "the deploy step failed; stopping"
    exit 1
fi

# Chains on other ports than the settings' defaults: tell the app where they are.
if [ -z "${FUZZYDICE_CHAINS:-}" ] && { [ "${PORTS[0]}" != "${DEFAULT_PORTS[0]}" ] || [ "${PORTS[1]}" != "${DEFAULT_PORTS[1]}" ]; }; then
    export FUZZYDICE_CHAINS="{\"${CHAIN_IDS[0]}\": \"http://$HOST:${PORTS[0]}\", \"${CHAIN_IDS[1]}\": \"http://$HOST:${PORTS[1]}\"}"
    log "FUZZYDICE_CHAINS=$FUZZYDICE_CHAINS"
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
