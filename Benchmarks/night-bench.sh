#!/usr/bin/env bash
# A whole night at several sizes: wall time, peak RSS and ledger bytes per row of each command.
#
# usage: Benchmarks/night-bench.sh [ROWS...]      (default: 10000 100000 1000000)
#
# For each size: gen_batch.py writes ROWS valid rows (six websites, one customer per row); one
# local sandbox (no rate limit; Rebilly's API, so every cashier is new and its differences from
# the batch are opening ones, which leave the exit code 0); then, on one ledger, in this order:
#   run        stage, send (cashier + deposit request per row), reconcile from the create answers, reports
#   retry      the same night again: nothing left to send, every row checked and the reports rewritten
#   reconcile  read every cashier back (GET /cashiers/{id}) and the night's deposit requests in bulk
#   report     the reports again from the ledger, nothing sent
# Peak RSS and wall time come from /usr/bin/time (GNU time) of the cashier-batch process alone;
# ledger bytes are the SQLite file plus its -wal after each command. Output: a markdown table on
# stdout, one line per size and command; the largest size's peak RSS against the smallest's and its
# wall time against the next smaller size's; where `run`'s time went (staging, sending, reports, from
# its log); the requests `reconcile` made per row and the customers holding more than one deposit
# request (from the sandbox's /_sandbox/stats).
#
# Environment: CASHIER_BATCH_BIN (default: .build-release/dist, then .build/release, then
# .build/debug), CONCURRENCY=64, PYTHON=python3, KEEP=1 keeps the work folder (path on stderr).
set -euo pipefail

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)
for n in "${SIZES[@]}"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROWS...]" >&2; exit 64; }; done
CONCURRENCY="${CONCURRENCY:-64}"
PYTHON="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$(dirname "$HERE")"
log() { echo "== $*" >&2; }
die() { echo "night-bench: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "needs GNU time (apt-get install time)"

. "$HERE/binary.sh"

WORK=$(mktemp -d /tmp/night-bench.XXXXXX)
SANDBOX_PID=""
cleanup() {
    [ -n "$SANDBOX_PID" ] && kill "$SANDBOX_PID" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export REBILLY_API_KEY=bench-key
RESULTS="$WORK/results.txt"
: > "$RESULTS"

ledger_bytes() { local total=0 f; for f in "$1" "$1-wal"; do [ -f "$f" ] && total=$((total + $(stat -c %s "$f"))); done; echo "$total"; }

for ROWS in "${SIZES[@]}"; do
    dir="$WORK/$ROWS"; mkdir -p "$dir"
    log "$ROWS rows: generating"
    "$PYTHON" "$HERE/gen_batch.py" "$ROWS" "$dir" >&2
    rm -f "$dir/batch.jsonl" "$dir/batch.jsonl.gz"
    PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$BIN" sandbox --port "$PORT" --api-key bench-key > "$dir/sandbox.log" 2>&1 &
    SANDBOX_PID=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null || { cat "$dir/sandbox.log"; die "the sandbox did not start"; }
    common=(--api-url "http://127.0.0.1:$PORT" --db "$dir/ledger.sqlite" --rate 1000000/s
            --concurrency "$CONCURRENCY" --report-dir "$dir/reports" --log-format json)
    for command in run retry reconcile report; do
        case $command in
            run) args=(run "$dir/batch.csv" "${common[@]}") ;;
            retry) args=(retry "${common[@]}") ;;
            reconcile) args=(reconcile "${common[@]}") ;;
            report) args=(report --db "$dir/ledger.sqlite" --out "$dir/reports") ;;
        esac
        log "$ROWS rows: $command"
        status=0
        /usr/bin/time -f "%e %M" -o "$dir/$command.time" "$BIN" "${args[@]}" > "$dir/$command.log" 2>&1 || status=$?
        [ "$status" -eq 0 ] || { tail -5 "$dir/$command.log" >&2; die "$command on $ROWS rows exited $status"; }
        read -r wall rss_kb < <(tail -1 "$dir/$command.time")
        echo "$ROWS $command $wall $rss_kb $(ledger_bytes "$dir/ledger.sqlite")" >> "$RESULTS"
        if [ "$command" = retry ] || [ "$command" = reconcile ]; then
            curl -sf -H "REB-APIKEY: bench-key" "http://127.0.0.1:$PORT/_sandbox/stats" \
                | "$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); d.pop("depositRequestsPerCashier"); json.dump(d, sys.stdout)' \
                > "$dir/$command.stats.json"
        fi
        log "$ROWS rows: $command $wall s, $((rss_kb / 1024)) MB"
    done
    kill "$SANDBOX_PID" 2>/dev/null; wait "$SANDBOX_PID" 2>/dev/null || true; SANDBOX_PID=""
    rm -f "$dir/batch.csv"
done

"$PYTHON" - "$RESULTS" "$BIN" "$WORK" <<'PY'
import json, os, sys
from datetime import datetime
path, binary, work = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [line.split() for line in open(path)]
print(f"binary {binary}, one run per size and command, in this order")
print()
print("| rows | command | wall s | µs per row | peak RSS MB | ledger bytes per row |")
print("|---:|---|---:|---:|---:|---:|")
by = {}
for n, command, wall, rss, size in rows:
    n, wall, rss, size = int(n), float(wall), int(rss), int(size)
    by[(n, command)] = (wall, rss)
    print(f"| {n:,} | {command} | {wall:.2f} | {wall * 1e6 / n:.1f} | {rss / 1024:.1f} | {size / n:,.0f} |")
sizes = sorted({n for n, _ in by})
if len(sizes) > 1:
    lo, mid, hi = sizes[0], sizes[-2], sizes[-1]
    print()
    print(f"{hi:,} rows against {lo:,} rows ({hi // lo}x the rows) and against {mid:,} ({hi // mid}x):")
    print()
    print(f"| command | peak RSS {hi:,}/{lo:,} | wall {hi:,}/{mid:,} |")
    print("|---|---:|---:|")
    for command in ("run", "retry", "reconcile", "report"):
        print(f"| {command} | {by[(hi, command)][1] / by[(lo, command)][1]:.2f} | {by[(hi, command)][0] / by[(mid, command)][0]:.2f} |")

def phases(n, wall):
    """Where `run`'s time went, from its JSON log: staging (start to "batch staged"), sending and the
    reconciliation from the create answers ("sending" to "reconciled"), the reports (after "run finished")."""
    seen = {}
    for line in open(os.path.join(work, str(n), "run.log")):
        if line.startswith("{"):
            entry = json.loads(line)
            seen.setdefault(entry.get("message"), datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp())
    start = seen["reports written"] - wall
    return (seen["batch staged"] - start, seen["reconciled"] - seen["sending"], seen["reports written"] - seen["run finished"])
print()
print("Where `run`'s time went (from its log): staging; sending and reconciling from the create answers; reports.")
print()
print("| rows | staging s | µs per row | sending s | µs per row | reports s | µs per row |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for n in sizes:
    parts = phases(n, by[(n, "run")][0])
    print(f"| {n:,} | " + " | ".join(f"{p:.2f} | {p * 1e6 / n:.1f}" for p in parts) + " |")

def calls(n, command):
    stats = json.load(open(os.path.join(work, str(n), command + ".stats.json")))
    return {op: sum(outcomes.values()) for op, outcomes in stats["requests"].items()}
print()
print("Requests `reconcile` made (the sandbox's counts after it minus after `retry`), and the deposit requests")
print("the sandbox holds for a customer more than once after the night:")
print()
print("| rows | request | count | per row |")
print("|---:|---|---:|---:|")
for n in sizes:
    before, after = calls(n, "retry"), calls(n, "reconcile")
    for op in sorted(after):
        made = after[op] - before.get(op, 0)
        if made:
            print(f"| {n:,} | {op} | {made:,} | {made / n:.4f} |")
    duplicates = json.load(open(os.path.join(work, str(n), "reconcile.stats.json")))["duplicateDepositRequests"]
    print(f"| {n:,} | customers with more than one deposit request | {duplicates:,} | |")
PY
