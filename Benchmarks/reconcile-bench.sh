#!/usr/bin/env bash
# Reconcile: bulk deposit listing against the per-customer listing (issue 12, item 4).
#
# usage: Benchmarks/reconcile-bench.sh [ROWS=10000]
#
# One local sandbox (`cashier-batch sandbox`), one night of ROWS rows (gen_batch.py: six
# websites, one customer per row) sent by `run`. Then `reconcile` of that night against the
# same sandbox, `--deposit-listing per-customer` and `--deposit-listing bulk` alternately, RUNS
# times each. GETs per operation come from the sandbox's /_sandbox/stats (exact), wall seconds
# from the clock (median of RUNS). Compare the ratio within one run: the machine is shared.
#
# Environment: CASHIER_BATCH_BIN (default: Benchmarks/binary.sh's: the release dist, the release, the debug build), RUNS=3,
# CONCURRENCY=8 (read-backs in flight), PYTHON=python3. Output: a markdown table on stdout.
set -euo pipefail

ROWS="${1:-10000}"
[[ "$ROWS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROWS=10000]" >&2; exit 64; }
RUNS="${RUNS:-3}"
CONCURRENCY="${CONCURRENCY:-8}"
PYTHON="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$(dirname "$HERE")"
log() { echo "== $*" >&2; }
die() { echo "reconcile-bench: $*" >&2; exit 1; }

. "$HERE/binary.sh"

WORK=$(mktemp -d /tmp/reconcile-bench.XXXXXX)
SANDBOX_PID=""
cleanup() { [ -n "$SANDBOX_PID" ] && kill "$SANDBOX_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export REBILLY_API_KEY=bench-key

PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" sandbox --port "$PORT" --api-key bench-key > "$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null || { cat "$WORK/sandbox.log"; die "the sandbox did not start"; }
stats() { curl -s -H "REB-APIKEY: bench-key" "http://127.0.0.1:$PORT/_sandbox/stats"; }
gets() {  # gets OPERATION: the sandbox's count of 200 answers to OPERATION so far
    stats | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["requests"].get(sys.argv[1], {}).get("200", 0))' "$1"
}

log "generating $ROWS rows"
"$PYTHON" "$HERE/gen_batch.py" "$ROWS" "$WORK" >&2
log "sending the night (run)"
"$BIN" run "$WORK/batch.csv" --api-url "http://127.0.0.1:$PORT" --db "$WORK/ledger.sqlite" --rate 1000000/s \
    --concurrency 32 --report-dir "$WORK/reports" > "$WORK/run.log" 2>&1 || { tail -5 "$WORK/run.log"; die "run failed"; }

: > "$WORK/results.txt"
for i in $(seq "$RUNS"); do
    for mode in per-customer bulk; do
        cashiers=$(gets GetCashier); lists=$(gets GetDepositRequestCollection)
        start=$(date +%s.%N)
        status=0
        "$BIN" reconcile --api-url "http://127.0.0.1:$PORT" --db "$WORK/ledger.sqlite" --rate 1000000/s \
            --concurrency "$CONCURRENCY" --deposit-listing "$mode" --report-dir "$WORK/reports-$mode" > "$WORK/reconcile.log" 2>&1 || status=$?
        end=$(date +%s.%N)
        [ "$status" -eq 0 ] || { tail -5 "$WORK/reconcile.log"; die "reconcile --deposit-listing $mode exited $status"; }
        line=$(grep -o 'reconciled run=.*' "$WORK/reconcile.log" | head -1)
        echo "$mode $(( $(gets GetCashier) - cashiers )) $(( $(gets GetDepositRequestCollection) - lists )) $(echo "$end - $start" | bc -l) $line" >> "$WORK/results.txt"
        log "$mode run $i: $(tail -1 "$WORK/results.txt" | cut -d' ' -f1-4)"
    done
done

"$PYTHON" - "$ROWS" "$WORK/results.txt" "$BIN" <<'PY'
import statistics, sys
rows, path, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3]
by = {}
findings = {}
for line in open(path):
    mode, cashiers, lists, wall, rest = line.split(" ", 4)
    by.setdefault(mode, []).append((int(cashiers), int(lists), float(wall)))
    findings.setdefault(mode, set()).add(rest.strip())
print(f"{rows} rows, binary {binary}, median wall of {len(by['bulk'])} runs each, alternating")
print()
print("| listing | GET /cashiers/{id} | GET /deposit-requests | GETs | wall s |")
print("|---|---:|---:|---:|---:|")
for mode in ("per-customer", "bulk"):
    runs = by[mode]
    c, l = runs[0][0], runs[0][1]
    assert all(r[0] == c and r[1] == l for r in runs), f"{mode}: GET counts differ between runs: {runs}"
    print(f"| {mode} | {c:,} | {l:,} | {c + l:,} | {statistics.median(r[2] for r in runs):.2f} |")
p, b = by["per-customer"], by["bulk"]
gets = (p[0][0] + p[0][1]) / (b[0][0] + b[0][1])
wall = statistics.median(r[2] for r in p) / statistics.median(r[2] for r in b)
print()
print(f"per-customer / bulk: {gets:.2f}x the GETs, {wall:.2f}x the wall time")
same = findings["per-customer"] == findings["bulk"] and len(findings["bulk"]) == 1
print(f"same findings in every run: {'yes' if same else 'NO'} ({next(iter(findings['bulk']))})")
PY
