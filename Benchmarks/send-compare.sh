#!/usr/bin/env bash
# Two builds of the job side by side, in one run: the throughput of `run` on ROWS rows against
# a fresh local sandbox (no rate limit, --concurrency 64), next to async-http-client alone
# (Benchmarks/HTTPCeiling: the same two requests per customer, same concurrency) on its own
# fresh sandbox. ROUNDS rounds, the two builds and the ceiling alternating, so machine noise
# falls on all three alike. Prints one table row per measurement and the medians.
#
# usage: Benchmarks/send-compare.sh BEFORE_BIN AFTER_BIN CEILING_BIN [ROWS=20000] [ROUNDS=3]
#   BEFORE_BIN / AFTER_BIN: release builds of cashier-batch; CEILING_BIN: http-ceiling.
#   The sandbox is AFTER_BIN's for every measurement.
set -euo pipefail
BEFORE=$1; AFTER=$2; CEILING=$3; ROWS=${4:-20000}; ROUNDS=${5:-3}
command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
WORK=$(mktemp -d /tmp/send-compare.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export REBILLY_API_KEY=bench-key

python3 - "$ROWS" "$WORK/batch.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("websiteId,customerId,currency,balance,bonusBalance,pendingPayoutTotal,deposit.amounts\n")
    for i in range(n):
        f.write(f"web_01J8ZK4Q7M2XR5T9VB3C6NDWEH,cus_{i:08d},USD,{i % 100000}.{i % 100:02d},0,{i % 50}.00,20;50;100\n")
PY
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SANDBOX_PID=""
start_sandbox() {
  PORT=$(free_port)
  "$AFTER" sandbox --port "$PORT" --api-key bench-key > "$WORK/sandbox.log" 2>&1 &
  SANDBOX_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && return; sleep 0.1; done
  echo "sandbox did not start"; cat "$WORK/sandbox.log"; exit 1
}
stop_sandbox() { kill "$SANDBOX_PID" 2>/dev/null || true; wait "$SANDBOX_PID" 2>/dev/null || true; }
requests() { curl -s -H "REB-APIKEY: bench-key" "http://127.0.0.1:$PORT/_sandbox/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["requestsTotal"], d["duplicateDepositRequests"])'; }

job() {  # job NAME BIN → "name rps_whole rps_sending cpu_per_1000 rss_mb dups"
  start_sandbox
  rm -f "$WORK/ledger.sqlite"*
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$2" run "$WORK/batch.csv" --api-url "http://127.0.0.1:$PORT" \
    --db "$WORK/ledger.sqlite" --rate 1000000/s --concurrency 64 --report-dir "$WORK/reports" > "$WORK/run.log" 2>&1 \
    || { echo "run failed ($1):"; tail -5 "$WORK/run.log"; exit 1; }
  read -r WALL USER SYS RSS < "$WORK/time.txt"
  read -r REQS DUPS <<< "$(requests)"
  SPAN=$(sqlite3 "$WORK/ledger.sqlite" "select (julianday(max(finished_at)) - julianday(min(requested_at))) * 86400 from attempts")
  stop_sandbox
  python3 -c "import sys; r,w,s,u,y,rss=map(float,sys.argv[1:7]); print(sys.argv[7], f'{r/w:.0f}', f'{r/s:.0f}', f'{(u+y)/$ROWS*1000:.3f}', f'{rss/1024:.1f}', sys.argv[8])" \
    "$REQS" "$WALL" "$SPAN" "$USER" "$SYS" "$RSS" "$1" "$DUPS"
}
ceiling() {
  start_sandbox
  RPS=$("$CEILING" "http://127.0.0.1:$PORT" bench-key "$ROWS" 64)
  stop_sandbox
  echo "ceiling $RPS"
}

echo "## send-compare: $ROWS rows, $ROUNDS rounds ($(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| round | build | requests/s (whole process) | requests/s (sending) | CPU s per 1,000 rows | peak RSS MB | duplicates | ÷ ceiling (whole / sending) |"
echo "|---:|---|---:|---:|---:|---:|---:|---|"
: > "$WORK/results.txt"
for round in $(seq "$ROUNDS"); do
  C=$(ceiling | awk '{print $2}')
  for pair in "before:$BEFORE" "after:$AFTER"; do
    name=${pair%%:*}; bin=${pair#*:}
    read -r n whole sending cpu rss dups <<< "$(job "$name" "$bin")"
    echo "$round $n $whole $sending $cpu $rss $dups $C" >> "$WORK/results.txt"
    python3 -c "import sys; w,s,c=map(float,sys.argv[1:4]); print(f'| $round | $n | {w:,.0f} | {s:,.0f} | $cpu | $rss | $dups | {w/c:.2f} / {s/c:.2f} (ceiling {c:,.0f}) |')" "$whole" "$sending" "$C"
  done
done
echo
python3 - "$WORK/results.txt" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print("| build | median requests/s (whole) | median ÷ ceiling (whole) | median ÷ ceiling (sending) | median CPU s per 1,000 rows |")
print("|---|---:|---:|---:|---:|")
for name in ("before", "after"):
    mine = [r for r in rows if r[1] == name]
    whole = statistics.median(float(r[2]) for r in mine)
    rw = statistics.median(float(r[2]) / float(r[7]) for r in mine)
    rs = statistics.median(float(r[3]) / float(r[7]) for r in mine)
    cpu = statistics.median(float(r[4]) for r in mine)
    print(f"| {name} | {whole:,.0f} | {rw:.2f} | {rs:.2f} | {cpu:.3f} |")
PY
