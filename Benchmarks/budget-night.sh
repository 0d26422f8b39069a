#!/usr/bin/env bash
# What a night costs in Rebilly's budget: writes per row, reads, and wall time against the floor
# (writes ÷ rate), at a compressed rate, against a sandbox that limits non-GET requests to that
# same rate (as Rebilly limits them per organization).
#
# usage: Benchmarks/budget-night.sh [ROWS] [RATE]      (default: 1000 50/s)
#
# In one run, on one ledger and one sandbox:
#   night 1    ROWS new customers (a cashier and a deposit request each)
#   reconcile  night 1 read back (GETs only: no write token)
#   night 2    the same customers in a new export (other balances)
#   night 3    ROWS other new customers with --until 15 s ahead, then `retry` (no --until)
#   night 4    night 3's customers again, on a fresh sandbox and ledger at Rebilly's 3000/10m:
#              a fresh window's budget spent at once
# For each: the exit code, writes and reads it made (the sandbox's stats by User-Agent), writes
# per row, wall time, the floor (writes ÷ rate) and wall ÷ floor, the accepted writes a second
# while sending (first to last write request in the ledger) against the rate, and 429s; at the end the
# deposit requests made beyond one per row and night (duplicates: nights 1, 2 and 3 each give
# every customer one). A markdown table on
# stdout. Environment: CASHIER_BATCH_BIN (default: the release, then the debug build), KEEP=1.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$(dirname "$HERE")"
log() { echo "== $*" >&2; }
die() { echo "budget-night: $*" >&2; exit 1; }
. "$HERE/binary.sh"
PYTHON=${PYTHON:-python3}
ROWS=${1:-1000}
RATE=${2:-50/s}

WORK=$(mktemp -d /tmp/budget-night.XXXXXX)
SANDBOX_PID=""
cleanup() {
    [ -n "$SANDBOX_PID" ] && kill "$SANDBOX_PID" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export REBILLY_API_KEY=bench-key

# Three exports: night 1 and night 2 hold the same customers (night 2's balances differ, so it is
# not the same export again); night 3 holds other customers.
"$PYTHON" - "$WORK" "$ROWS" <<'PY'
import sys
work, rows = sys.argv[1], int(sys.argv[2])
header = "websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts\n"
def write(name, prefix, extra):
    with open(f"{work}/{name}", "w") as f:
        f.write(header)
        for i in range(rows):
            f.write(f"web_1,{prefix}{i:06d},USD,{i % 500 + extra}.25,1.50,10;20\n")
write("night1.csv", "cus_a", 0)
write("night2.csv", "cus_a", 7)
write("night3.csv", "cus_b", 0)
PY

PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" sandbox --port "$PORT" --api-key bench-key --rate "$RATE" > "$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null || { cat "$WORK/sandbox.log"; die "the sandbox did not start"; }
stats() { curl -sf -H 'REB-APIKEY: bench-key' "http://127.0.0.1:$PORT/_sandbox/stats"; }
LEDGER=$WORK/ledger.sqlite
common=(--api-url "http://127.0.0.1:$PORT" --db "$LEDGER" --rate "$RATE" --report-dir "$WORK/reports")

RESULTS="$WORK/results.tsv"
: > "$RESULTS"
# step NAME ROWS-FOR-PER-ROW COMMAND...: runs one command, records its exit, time and budget.
step() {
    local name=$1 rows=$2; shift 2
    stats > "$WORK/before.json"
    local start end status=0
    start=$(date +%s.%N)
    "$BIN" "$@" > "$WORK/$name.log" 2>&1 || status=$?
    end=$(date +%s.%N)
    stats > "$WORK/after.json"
    "$PYTHON" - "$WORK/before.json" "$WORK/after.json" "$name" "$rows" "$status" "$start" "$end" "$RATE" "$LEDGER" >> "$RESULTS" <<'PY'
import json, sqlite3, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
name, rows, status, start, end, rate = sys.argv[3], int(sys.argv[4]), sys.argv[5], float(sys.argv[6]), float(sys.argv[7]), sys.argv[8]
# Served while sending: the step's accepted writes a second, from its first write request to its
# last (the ledger's attempt times), against the rate.
db = sqlite3.connect(f"file:{sys.argv[9]}?mode=ro", uri=True)
accepted, first, last = db.execute(
    "SELECT count(*) FILTER (WHERE http_status BETWEEN 200 AND 299), min(requested_ms), max(requested_ms) "
    "FROM attempt_log WHERE operation IN (1, 2) AND run_id = (SELECT max(id) FROM runs)").fetchone()
def total(doc, kind):
    return sum(v[kind] for v in doc.get("byClient", {}).values())
writes, reads = total(after, "writes") - total(before, "writes"), total(after, "reads") - total(before, "reads")
limited = after["rateLimited"] - before["rateLimited"]
n, period = rate.split("/")
seconds = {"s": 1, "m": 60, "h": 3600}[period[-1]] * (int(period[:-1]) if period[:-1] else 1)
per_second = int(n) / seconds
wall = end - start
floor = writes / per_second
served = f"{100 * (accepted - 1) / ((last - first) / 1000) / per_second:.1f} %" if accepted and accepted > 1 and last > first else "-"
print("\t".join(str(x) for x in [name, status, writes, reads, f"{writes / rows:.3f}" if rows else "-", f"{wall:.1f}",
                                  f"{floor:.1f}", f"{wall / floor:.3f}" if floor else "-", served, limited]))
PY
    log "$name: exit $status"
}

log "night 1: $ROWS new customers at $RATE"
step "night 1" "$ROWS" run "$WORK/night1.csv" "${common[@]}"
step "reconcile" "$ROWS" reconcile "${common[@]}"
step "night 2" "$ROWS" run "$WORK/night2.csv" "${common[@]}"
until=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%SZ)
step "night 3 --until +15s" "$ROWS" run "$WORK/night3.csv" "${common[@]}" --until "$until"
step "retry" "$ROWS" retry "${common[@]}"

duplicates=$(stats | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["depositRequests"] - 3 * int(sys.argv[1]))' "$ROWS")
cashier_creates=$(stats | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin)["requests"]["PostCashier"]; print(sum(v for k, v in d.items()))')

# Rebilly's own budget, 3000 writes per 10 minutes, with a fresh window: night 4 is ROWS other
# new customers (at most 1,470 rows fit the window's 2,940 the job spends), on a second sandbox
# limiting non-GETs to 3000/10m and a ledger of its own.
kill "$SANDBOX_PID" 2>/dev/null; wait "$SANDBOX_PID" 2>/dev/null || true
RATE=3000/10m
"$BIN" sandbox --port "$PORT" --api-key bench-key --rate "$RATE" > "$WORK/sandbox-10m.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null || { cat "$WORK/sandbox-10m.log"; die "the 3000/10m sandbox did not start"; }
LEDGER=$WORK/ledger-10m.sqlite
log "night 4: $ROWS new customers at $RATE, a fresh window"
step "night 4, 3000 per 10m, a fresh window" "$ROWS" run "$WORK/night3.csv" --api-url "http://127.0.0.1:$PORT" --db "$LEDGER" \
    --rate "$RATE" --report-dir "$WORK/reports-10m"
echo "| step | exit | writes | reads | writes/row | wall s | floor s | wall/floor | served while sending | 429s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r name status writes reads per wall floor ratio served limited; do
    echo "| $name | $status | $writes | $reads | $per | $wall | $floor | $ratio | $served | $limited |"
done < "$RESULTS"
echo
echo "rows per night: $ROWS; rate: ${2:-50/s} for nights 1–3, 3000/10m for night 4 (the sandbox limits non-GETs to the same); cashier creates over the three nights: $cashier_creates (nights 1 and 3 make $((2 * ROWS))); deposit requests beyond one per row and night: $duplicates"
