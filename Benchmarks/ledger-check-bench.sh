#!/usr/bin/env bash
# What `PRAGMA quick_check` costs when a sending command opens a big ledger.
#
# usage: Benchmarks/ledger-check-bench.sh [ROWS=1000000]
#
# Builds a ledger of ROWS rows as a sent night leaves it: the batch staged by
# `cashier-batch validate --db`, then (in SQL) every row done with its two attempts
# (create_cashier, create_deposit_request) and its cashier's figures. Then it times,
# best of RUNS each, warm page cache:
#   - `PRAGMA quick_check` alone (sqlite3),
#   - `cashier-batch retry --dry-run` (opens the ledger with quick_check, sends nothing),
#   - `cashier-batch runs --limit 1` (opens it read-only, no check),
# and, as root, quick_check once more after dropping the page cache (a cold night).
#
# Environment: CASHIER_BATCH_BIN (default: Benchmarks/binary.sh's: the release dist, the release, the debug build),
# RUNS=3, PYTHON=python3. Output: a markdown table on stdout.
set -euo pipefail

ROWS="${1:-1000000}"
[[ "$ROWS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROWS=1000000]" >&2; exit 64; }
RUNS="${RUNS:-3}"
PYTHON="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
cd "$ROOT"
log() { echo "== $*" >&2; }
die() { echo "ledger-check-bench: $*" >&2; exit 1; }
command -v sqlite3 >/dev/null || die "sqlite3 is required (apt-get install -y sqlite3)"

. "$HERE/binary.sh"

OUT="bench-data/ledger-check-$ROWS"
mkdir -p "$OUT"
if [ ! -s "$OUT/batch.csv" ]; then
    log "generating $ROWS rows"
    "$PYTHON" "$HERE/gen_batch.py" "$ROWS" "$OUT" >&2
fi
LEDGER="$OUT/ledger.sqlite"
if [ ! -s "$LEDGER" ]; then
    log "staging into $LEDGER"
    "$BIN" validate --db "$LEDGER" "$OUT/batch.csv" >/dev/null
    log "marking every row done with its attempts and figures (SQL)"
    sqlite3 "$LEDGER" <<'SQL'
PRAGMA journal_mode = WAL;
BEGIN;
UPDATE rows SET state = 'done', cashier_id = 'cashier_' || id, deposit_request_id = 'dep_req_' || id,
                attempt_count = 2, last_run_id = 1
WHERE state = 'pending';
INSERT INTO attempts (row_id, run_id, operation, requested_at, finished_at, http_status, latency_ms, returned_id, outcome)
SELECT id, 1, 'create_cashier', updated_at, updated_at, 201, 12, cashier_id, 'succeeded' FROM rows WHERE state = 'done';
INSERT INTO attempts (row_id, run_id, operation, requested_at, finished_at, http_status, latency_ms, returned_id, outcome)
SELECT id, 1, 'create_deposit_request', updated_at, updated_at, 201, 9, deposit_request_id, 'succeeded' FROM rows WHERE state = 'done';
INSERT INTO remote_figures (row_id, run_id, attempt_id, source, cashier_id, http_status, currency, exponent,
                            balance_minor, bonus_balance_minor, pending_payout_total_minor,
                            balance_text, bonus_balance_text, pending_payout_total_text, observed_at)
SELECT id, 1, NULL, 'create', cashier_id, 201, currency, 2, 123450, 0, 8000, '1234.50', '0.00', '80.00', updated_at
FROM rows WHERE state = 'done';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
fi

best() {  # best wall seconds of RUNS runs of "$@"
    local best="" t
    for _ in $(seq "$RUNS"); do
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
    done
    printf '%.3f' "$best"
}

bytes=$(stat -c %s "$LEDGER")
rows=$(sqlite3 "$LEDGER" "SELECT count(*) FROM rows")
attempts=$(sqlite3 "$LEDGER" "SELECT count(*) FROM attempts")
log "timing (warm cache, best of $RUNS)"
check=$(best sqlite3 "$LEDGER" "PRAGMA quick_check")
[ "$(sqlite3 "$LEDGER" "PRAGMA quick_check")" = ok ] || die "the generated ledger fails quick_check"
retry=$(best "$BIN" retry --db "$LEDGER" --dry-run --report-dir "$OUT/reports")
runs=$(best "$BIN" runs --db "$LEDGER" --limit 1)
cold="(not root: page cache not dropped)"
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/drop_caches ]; then
    sync; echo 3 > /proc/sys/vm/drop_caches
    start=$(date +%s.%N); sqlite3 "$LEDGER" "PRAGMA quick_check" >/dev/null; end=$(date +%s.%N)
    cold=$(printf '%.3f' "$(echo "$end - $start" | bc -l)")
fi

cat <<EOF
- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs, $(uname -r); SQLite $(sqlite3 --version | cut -d' ' -f1)
- ledger: $rows rows, $attempts attempts, $bytes bytes ($(( bytes / rows )) bytes per row); binary: $BIN

| what | seconds |
|---|---:|
| \`PRAGMA quick_check\` (sqlite3), warm | $check |
| \`PRAGMA quick_check\` (sqlite3), cold page cache | $cold |
| \`cashier-batch retry --dry-run\` (opens with quick_check, sends nothing) | $retry |
| \`cashier-batch runs --limit 1\` (read-only, no check) | $runs |
EOF
