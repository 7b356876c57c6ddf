#!/usr/bin/env bash
# Runs the test suite while the machine's cores are kept busy, several times, to find tests whose
# outcome depends on timing. A test that passes alone but fails here races a real clock and must be
# made deterministic (fake clocks, events) — CI runs on a busy 2-core machine.
#
#   bash scripts/test-under-load.sh                 # whole suite (./pnpmw test), 3 rounds, one CPU hog per core
#   ROUNDS=5 HOGS=4 bash scripts/test-under-load.sh
#   bash scripts/test-under-load.sh apps/server test/voice-chat.test.ts test/reply-leaks.test.ts
#                                                   # only these files of one package (run from its directory)
#
# Exit status: 0 when every round passed, 1 otherwise; each failing round's output is kept under
# $LOG_DIR (default: a fresh directory under /tmp) and its path printed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
HOGS=${HOGS:-$(nproc)}
LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/wxstream-load.XXXXXX)}
mkdir -p "$LOG_DIR"
NODE="$ROOT/.tooling/node_modules/.bin/node"
[ -x "$NODE" ] || NODE=node

hogs=()
stop_hogs() { for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done; hogs=(); }
trap stop_hogs EXIT INT TERM
for _ in $(seq "$HOGS"); do
  "$NODE" -e 'for (;;) {}' &
  hogs+=("$!")
done
echo "test-under-load: $HOGS CPU hog(s) on $(nproc) core(s), $ROUNDS round(s), logs in $LOG_DIR"

run_round() {
  if [ $# -ge 2 ]; then
    local pkg=$1; shift
    (cd "$ROOT/$pkg" && "$NODE" --test --test-concurrency=1 "$@")
  else
    ./pnpmw test
  fi
}

failed=0
for round in $(seq "$ROUNDS"); do
  log="$LOG_DIR/round-$round.log"
  start=$(date +%s)
  if run_round "$@" >"$log" 2>&1; then
    echo "round $round: passed ($(( $(date +%s) - start )) s)"
  else
    failed=1
    echo "round $round: FAILED ($(( $(date +%s) - start )) s) — $log"
    grep -E '✖|^not ok' "$log" | head -40 || true
  fi
done
exit "$failed"
