#!/usr/bin/env bash
# Many nights on one ledger: staging and report time of night 1 against night N.
#
# usage: Benchmarks/ledger-growth-bench.sh [ROWS] [NIGHTS]      (default: 100000 30)
#
# gen_batch.py writes ROWS valid rows once; night k is the same customers with every balance
# raised by k (another file, another SHA-256, no row a repeat of the night before). Each night:
#   run --dry-run   stage the file (nothing is sent), the repeat check against the done rows of
#                   the last 24 hours, reconcile from the ledger, the reports
#   (sqlite3)       the night's rows marked done, as if sent
#   retry           nothing left to send: reconcile from the ledger, record the reconciliation,
#                   the reports (against a local sandbox, which is never called)
#   (sqlite3)       the night's rows and runs dated NIGHTS-k days before the last night, as if sent
#                   on consecutive nights: the repeat check and the indexes see NIGHTS nights of rows
#   report          the night's reports again from the ledger, from its recorded reconciliation
# Wall time and peak RSS from GNU time of the cashier-batch process; ledger bytes = the file plus
# its -wal. The rows carry no attempts or figures (nothing was sent): bytes per row here are the
# rows and their indexes only; Benchmarks/night-bench.sh measures a whole night's.
#
# Environment: CASHIER_BATCH_BIN (default: .build-release/dist, then .build/release, then
# .build/debug), PYTHON=python3, KEEP=1 keeps the work folder (path on stderr).
set -euo pipefail
ROWS="${1:-100000}"
NIGHTS="${2:-30}"
[[ "$ROWS" =~ ^[1-9][0-9]*$ && "$NIGHTS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROWS] [NIGHTS]" >&2; exit 64; }
PYTHON="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$(dirname "$HERE")"
die() { echo "ledger-growth-bench: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "needs GNU time (apt-get install time)"
command -v sqlite3 >/dev/null || die "needs sqlite3 (apt-get install sqlite3)"
. "$HERE/binary.sh"

WORK=$(mktemp -d /tmp/ledger-growth.XXXXXX)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
LEDGER="$WORK/ledger.sqlite"
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" sandbox --port "$PORT" --api-key bench-key > "$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
trap 'kill "$SANDBOX_PID" 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done
export REBILLY_API_KEY=bench-key
RESULTS="$WORK/results.txt"
: > "$RESULTS"
"$PYTHON" "$HERE/gen_batch.py" "$ROWS" "$WORK/base" >&2
ledger_bytes() { local total=0 f; for f in "$LEDGER" "$LEDGER-wal"; do [ -f "$f" ] && total=$((total + $(stat -c %s "$f"))); done; echo "$total"; }

for k in $(seq 1 "$NIGHTS"); do
    night="$WORK/night-$k.csv"
    "$PYTHON" - "$WORK/base/batch.csv" "$night" "$k" <<'PY'
import csv, sys
source, target, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(source, newline="") as f, open(target, "w", newline="") as out:
    reader, writer = csv.reader(f), csv.writer(out, lineterminator="\n")
    header = next(reader)
    writer.writerow(header)
    column = header.index("balance")
    for row in reader:
        whole, dot, fraction = row[column].partition(".")
        row[column] = str(int(whole) + k) + dot + fraction
        writer.writerow(row)
PY
    /usr/bin/time -f "%e %M" -o "$WORK/run.time" "$BIN" run --dry-run --db "$LEDGER" --report-dir "$WORK/reports" \
        --log-format json "$night" > "$WORK/run-$k.log" 2>&1 || { tail -5 "$WORK/run-$k.log" >&2; die "run --dry-run of night $k failed"; }
    batch=$(sqlite3 "$LEDGER" "SELECT max(id) FROM batches")
    dry=$(sqlite3 "$LEDGER" "SELECT max(id) FROM runs")
    sqlite3 "$LEDGER" "UPDATE rows SET state = 'done' WHERE batch_id = $batch AND state = 'pending'"
    /usr/bin/time -f "%e %M" -o "$WORK/retry.time" "$BIN" retry --db "$LEDGER" --api-url "http://127.0.0.1:$PORT" \
        --report-dir "$WORK/reports" --log-format json > "$WORK/retry-$k.log" 2>&1 || { tail -5 "$WORK/retry-$k.log" >&2; die "retry of night $k failed"; }
    ago="-$((NIGHTS - k)) days"
    sqlite3 "$LEDGER" "UPDATE rows SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now', '$ago') WHERE batch_id = $batch;
        UPDATE runs SET started_at = strftime('%Y-%m-%d %H:%M:%f', started_at, '$ago'), finished_at = strftime('%Y-%m-%d %H:%M:%f', finished_at, '$ago')
        WHERE id >= $dry"
    /usr/bin/time -f "%e %M" -o "$WORK/report.time" "$BIN" report --db "$LEDGER" --out "$WORK/reports-$k" \
        > "$WORK/report-$k.log" 2>&1 || { tail -5 "$WORK/report-$k.log" >&2; die "report of night $k failed"; }
    read -r run_wall run_rss < <(tail -1 "$WORK/run.time")
    read -r report_wall report_rss < <(tail -1 "$WORK/report.time")
    read -r retry_wall _ < <(tail -1 "$WORK/retry.time")
    echo "$k $run_wall $run_rss $report_wall $report_rss $(ledger_bytes) $retry_wall" >> "$RESULTS"
    echo "== night $k: run --dry-run $run_wall s, retry $retry_wall s, report $report_wall s, ledger $(($(ledger_bytes) / 1048576)) MB" >&2
    rm -f "$night"; rm -rf "$WORK/reports-$k"
done

"$PYTHON" - "$RESULTS" "$BIN" "$ROWS" <<'PY'
import sys
path, binary, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
nights = [line.split() for line in open(path)]
print(f"binary {binary}, {len(nights)} nights of {rows:,} rows on one ledger, one run of each")
print()
print("| night | run --dry-run s | run peak RSS MB | retry s | report s | report peak RSS MB | ledger MB | ledger bytes per row |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for k, rw, rr, pw, pr, size, tw in nights:
    k, size = int(k), int(size)
    if k in (1, 2, 5, 10, 20, len(nights)) or k % 10 == 0:
        print(f"| {k} | {float(rw):.2f} | {int(rr) / 1024:.1f} | {float(tw):.2f} | {float(pw):.2f} | {int(pr) / 1024:.1f} | {size / 1048576:,.0f} | {size / (k * rows):,.0f} |")
first, last = nights[0], nights[-1]
print()
print(f"night {len(nights)} against night 1: run --dry-run {float(last[1]) / float(first[1]):.2f}x, "
      f"retry {float(last[6]) / float(first[6]):.2f}x, report {float(last[3]) / float(first[3]):.2f}x")
PY
