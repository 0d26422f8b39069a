#!/usr/bin/env bash
# Replays the walkthrough of docs/operator-guide.md ("A night, step by step", sections 1–7) so
# that its outputs can be pasted into the guide: every command as the guide shows it, in a fresh
# scratch directory (SampleData copied from this repository), against a sandbox on a free loopback
# port started with the guide's flags. Nothing leaves the machine.
#
# usage: Benchmarks/walkthrough-replay.sh BIN [SEED] [OUT]
#   BIN   the cashier-batch binary (e.g. .build/debug/cashier-batch)
#   SEED  the sandbox's --seed (default 8, see below)
#   OUT   output directory (default: a new /tmp/walkthrough-replay.SEED.XXXXXX)
# Environment: STOP_AFTER_RUN=1 stops after step 2's run and its ledger summary (to screen
#   seeds quickly); PORT (default: a free one).
#
# In OUT: NN-name.cmd (the command, as the guide would show it, with this replay's port and
# ids), NN-name.out (its stdout and stderr), NN-name.rc (its exit code), reports-NN-name/
# (copies of reports/ where the guide shows them), sandbox.log, and scratch/ (the scratch
# directory itself: night.sqlite, fixes.csv, corrections.csv…). The guide's `cashier-batch`
# is BIN (a symlink in scratch/.bin, first on PATH). The SIGTERM of step 4 goes to the
# cashier-batch process itself, 6 s after its start, as `kill -TERM $!` does in the guide.
#
# The seed: the order of requests (hence which ones meet which fault) depends on timing (and so
# on the machine's load), so a seed gives the guide's story only with this build's timing.
# With the debug build of 2026-12-07 (a fresh 3000/10m window spent at once), --seed 8 gave in
# each of 5 replays one row needing review in step 2 (row 64) beside in-doubt rows adopted or
# sent again; what run 2, its SIGTERM and the retry meet varies from replay to replay.
set -uo pipefail

BIN=${1:?usage: walkthrough-replay.sh BIN [SEED] [OUT]}
SEED=${2:-8}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${3:-$(mktemp -d "/tmp/walkthrough-replay.$SEED.XXXXXX")}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
SCRATCH=$OUT/scratch
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH/.bin"
ln -s "$BIN" "$SCRATCH/.bin/cashier-batch"
export PATH="$SCRATCH/.bin:$PATH"
KEY=sandbox-secret-key
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
API=http://127.0.0.1:$PORT
SANDBOX_PID=""
trap '[ -n "$SANDBOX_PID" ] && kill -INT "$SANDBOX_PID" 2>/dev/null; wait 2>/dev/null' EXIT
cd "$SCRATCH"

N=0
# step NAME COMMAND: runs COMMAND (a shell command line) in the scratch directory; saves the
# command, its stdout+stderr and its exit code as OUT/NN-NAME.{cmd,out,rc}.
step() {
    N=$((N + 1)); LAST=$(printf '%s/%02d-%s' "$OUT" "$N" "$1")
    printf '%s\n' "$2" > "$LAST.cmd"
    echo "== $(date -u +%H:%M:%S) $(printf '%02d' "$N") $1" >&2
    eval "$2" > "$LAST.out" 2>&1
    RC=$?; echo "$RC" > "$LAST.rc"
    return 0
}
# keep_reports NAME: copies reports/ as it is now to OUT/reports-NN-NAME.
keep_reports() { rm -rf "$OUT/reports-$(printf '%02d' "$N")-$1"; cp -r reports "$OUT/reports-$(printf '%02d' "$N")-$1"; }
sql() { sqlite3 -readonly night.sqlite "$1"; }
RUN="REBILLY_API_KEY=$KEY cashier-batch run --api-url $API --db night.sqlite --report-dir reports/"

# ---- 1. A Rebilly to send to
step copy-sampledata "cp -r $REPO/SampleData ."
N=$((N + 1)); LAST=$(printf '%s/%02d-%s' "$OUT" "$N" sandbox)
SANDBOX_CMD="cashier-batch sandbox --port $PORT --fail-rate 0.05 --drop-rate 0.05 --foreign-deposits 0.3 --latency 2ms..15ms --seed $SEED --preload SampleData/preload.jsonl"
printf '%s\n' "$SANDBOX_CMD" > "$LAST.cmd"
cashier-batch sandbox --port "$PORT" --fail-rate 0.05 --drop-rate 0.05 --foreign-deposits 0.3 \
    --latency 2ms..15ms --seed "$SEED" --preload SampleData/preload.jsonl > "$LAST.out" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 100); do curl -sf "$API/_sandbox/health" > /dev/null && break; sleep 0.1; done
SANDBOX_LOG=$LAST.out

# ---- 2. The run
step run-1 "$RUN SampleData/customers.csv SampleData/bad-rows.csv"
keep_reports run-1
# ---- 3. The reports (summary.md, and report.json's requests per operation for report.html's table)
step summary-md "cat reports/summary.md"
step requests-by-status "jq -c '.. | objects | select(has(\"operation\") and has(\"byStatus\"))' reports/report.json"
step ledger-after-run-1 "sqlite3 -readonly -header -column night.sqlite \"SELECT state, count(*) AS rows FROM rows GROUP BY state; SELECT a.row_id, a.id, a.operation, a.http_status AS http, a.outcome, r.state FROM attempts a JOIN rows r ON r.id = a.row_id WHERE a.row_id IN (SELECT row_id FROM attempts WHERE operation = 'list_deposit_requests') AND a.operation <> 'create_cashier' ORDER BY a.row_id, a.id\""
if [ "${STOP_AFTER_RUN:-0}" = 1 ]; then echo "$OUT"; exit 0; fi

# ---- 4. Re-running what did not get through: the row that needs review
step needs-review "sqlite3 -readonly -line night.sqlite \"SELECT id, line, customer_id, website_id, cashier_id, reasons_json FROM rows WHERE state = 'needs_review'\""
step review-candidates "sqlite3 -readonly -header -column night.sqlite \"SELECT * FROM review_candidates\""
REVIEW_ROW=$(sql "SELECT id FROM rows WHERE state = 'needs_review' ORDER BY id LIMIT 1")
if [ -n "$REVIEW_ROW" ]; then
    CUSTOMER=$(sql "SELECT customer_id FROM rows WHERE id = $REVIEW_ROW")
    step review-row-attempts "sqlite3 -readonly -header -column night.sqlite \"SELECT id, operation, requested_at, http_status AS http, outcome, returned_id FROM attempts WHERE row_id = $REVIEW_ROW ORDER BY id\""
    step rebilly-lists "curl -s -H 'REB-APIKEY: $KEY' '$API/deposit-requests?filter=customerId:$CUSTOMER' | jq -c '.[] | {id, websiteId, currency, amounts, customAmount, expirationTime, createdTime}'"
    step sandbox-foreign "curl -s -H 'REB-APIKEY: $KEY' $API/_sandbox/cashiers | jq -c '.depositRequests[] | select(.customerId == \"$CUSTOMER\") | {id, foreign, createdTime}'"
    OWN=$(curl -s -H "REB-APIKEY: $KEY" "$API/_sandbox/cashiers" | jq -r --arg c "$CUSTOMER" \
        '[.depositRequests[] | select(.customerId == $c and .foreign == false) | .id] | first // empty')
    OWN=$(sql "SELECT deposit_request_id FROM review_candidates WHERE row_id = $REVIEW_ROW AND deposit_request_id = '$OWN'")
    if [ -n "$OWN" ]; then
        step resolve "cashier-batch resolve --db night.sqlite --run 1 --row $REVIEW_ROW --adopt $OWN"
    else
        step resolve "cashier-batch resolve --db night.sqlite --run 1 --row $REVIEW_ROW --resend"
    fi
else
    echo "no row needs review: the resolve step is skipped" > "$OUT/$(printf '%02d' $((N + 1)))-no-review-row.out"
fi
step runs-after-resolve "cashier-batch runs --db night.sqlite"
step report-run-1 "cashier-batch report --db night.sqlite --run 1"
keep_reports report-run-1

# ---- 4. Unfinished, failed and in-doubt rows: a second export stopped after 6 s, then retry
N=$((N + 1)); LAST=$(printf '%s/%02d-%s' "$OUT" "$N" run-2-sigterm)
printf '%s\n' "$RUN SampleData/customers.jsonl.gz SampleData/customers-with-control.csv &" 'sleep 6; kill -TERM $!; wait $!' > "$LAST.cmd"
echo "== $(date -u +%H:%M:%S) $(printf '%02d' "$N") run-2-sigterm" >&2
REBILLY_API_KEY=$KEY cashier-batch run --api-url "$API" --db night.sqlite --report-dir reports/ \
    SampleData/customers.jsonl.gz SampleData/customers-with-control.csv > "$LAST.out" 2>&1 &
PID=$!
sleep 6
if [ "$(cat /proc/$PID/comm 2>/dev/null)" = cashier-batch ]; then kill -TERM "$PID"; else echo "(the run had ended before the SIGTERM)" >> "$LAST.out"; fi
wait "$PID"; echo $? > "$LAST.rc"
keep_reports run-2-sigterm
step runs-after-sigterm "cashier-batch runs --db night.sqlite"
step retry "REBILLY_API_KEY=$KEY cashier-batch retry --api-url $API --db night.sqlite --report-dir reports/"
keep_reports retry
step reconcile-1 "REBILLY_API_KEY=$KEY cashier-batch reconcile --api-url $API --db night.sqlite"
keep_reports reconcile-1

# ---- 4. Rejected rows: fix them, feed rejects.csv back to run
step report-run-1-again "cashier-batch report --db night.sqlite --run 1 --out reports-run1"
step validate-rejects "cashier-batch validate reports-run1/rejects.csv"
step fixes-csv "sed -n '1p;10p;12p;13p' reports-run1/rejects.csv | sed -e 's/,10\.001,/,10.00,/' -e 's/,1e3,/,1000,/' -e 's/,\"1,000\.00\",/,1000.00,/' > fixes.csv"
step validate-fixes "cashier-batch validate fixes.csv"
step run-fixes "$RUN fixes.csv"
keep_reports run-fixes

# ---- 5. History
step runs-history "cashier-batch runs --db night.sqlite"

# ---- 6. Investigating a break with sqlite3
SQ="sqlite3 -readonly -header -column night.sqlite"
step breaks-by-lifecycle "$SQ \"SELECT lifecycle, count(*) AS breaks, count(DISTINCT customer_id || currency) AS cashiers
FROM breaks WHERE run_id = (SELECT max(run_id) FROM breaks) GROUP BY lifecycle;
SELECT website_id, currency, figure, opening_count, opening_minor
FROM reconciliation_totals WHERE run_id = (SELECT max(run_id) FROM breaks) AND opening_count > 0 ORDER BY 1, 2, 3;\""
step open-drift-breaks "$SQ \"SELECT run_id, customer_id, currency, field, high_priority AS hi, lifecycle,
       printf('%.*f', exponent, expected_minor / power(10, exponent)) AS expected,
       actual_text AS rebilly, first_seen_run_id AS since, row_id
FROM breaks
WHERE run_id = (SELECT max(run_id) FROM breaks) AND lifecycle <> 'resolved' AND opening = 0
ORDER BY high_priority DESC;\""
step row-2-source "$SQ \"SELECT r.id, b.path, r.line, r.state, q.pendingPayoutTotal AS src_pending,
       r.cashier_id, r.deposit_request_id
FROM rows r JOIN batches b ON b.id = r.batch_id JOIN row_requests q ON q.row_id = r.id
WHERE r.id = 2;\""
step row-2-attempts "$SQ \"SELECT id, run_id, operation, requested_at, http_status AS http, outcome, returned_id
FROM attempts WHERE row_id = 2 ORDER BY id;\""
step row-2-remote-figures "$SQ \"SELECT run_id, source, http_status AS http, balance_text, bonus_balance_text,
       pending_payout_total_text, can_withdraw, cashier_created_at, observed_at
FROM remote_figures WHERE row_id = 2 ORDER BY id;\""
step repeated-creates "$SQ \"SELECT row_id, id, run_id, http_status AS http, outcome FROM attempts WHERE operation = 'create_cashier' AND row_id IN (SELECT row_id FROM attempts WHERE operation = 'create_cashier' AND outcome <> 'succeeded') ORDER BY row_id, id;\""
step in-doubt-rows "$SQ \"SELECT a.row_id AS row, a.id, a.operation, a.http_status AS http, a.outcome, a.returned_id, r.state, r.deposit_request_id
FROM attempts a JOIN rows r ON r.id = a.row_id
WHERE a.row_id IN (SELECT row_id FROM attempts WHERE operation = 'list_deposit_requests')
  AND a.operation <> 'create_cashier'
ORDER BY a.row_id, a.id;\""

# ---- 7. Fixing it, and confirming with reconcile
CASHIER_1=$(sql "SELECT cashier_id FROM rows WHERE id = 1")
step fix-in-rebilly "curl -s -X POST -H 'REB-APIKEY: $KEY' -d '{\"balance\":21178.00}' $API/_sandbox/cashiers/$CASHIER_1/figures; echo"
step corrections-csv "sed -n '1,3p' SampleData/customers.csv | sed -e '3s/,148\.66,0\.00,/,148.66,25.00,/' > corrections.csv"
step cut-corrections "cut -d, -f2-6 corrections.csv"
step run-corrections "$RUN --no-deposits corrections.csv"
keep_reports run-corrections
step reconcile-2 "REBILLY_API_KEY=$KEY cashier-batch reconcile --api-url $API --db night.sqlite"
keep_reports reconcile-2
step breaks-resolved "$SQ \"SELECT run_id, customer_id, currency, field, lifecycle, first_seen_run_id AS since
FROM breaks WHERE run_id = (SELECT max(run_id) FROM breaks) AND opening = 0;\""
step runs-json-last "cashier-batch runs --db night.sqlite --json --limit 1"
step runs-final "cashier-batch runs --db night.sqlite"

# Ctrl-C stops the sandbox.
kill -INT "$SANDBOX_PID"; wait "$SANDBOX_PID" 2>/dev/null; SANDBOX_PID=""
cp "$SANDBOX_LOG" "$OUT/sandbox.log"
printf '%s\n' "$OUT"
