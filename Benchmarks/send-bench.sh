#!/usr/bin/env bash
# Sending benchmarks (issue 4), all against a separate local sandbox process:
#  1. throughput: ROWS rows (default 20000) with no rate limit; rows/s, requests/s,
#     CPU seconds per 1,000 rows, next to wrk hitting the same sandbox's POST /cashiers
#     in the same run (the machine's ceiling);
#  2. rate precision: a 60 s run with --rate 50/s against a sandbox limited to 50/s:
#     achieved requests/s, 429s, failed rows.
# usage: Benchmarks/send-bench.sh [ROWS]   (SKIP_BUILD=1 reuses the release binary,
#        SKIP_RATE=1 skips the 60 s rate run, SKIP_THROUGHPUT=1 the throughput run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-20000}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  swift build -c release --product cashier-batch >/dev/null
  swift build -c release --product http-ceiling >/dev/null
fi
BIN="$(swift build -c release --show-bin-path)/cashier-batch"
CEILING="$(swift build -c release --show-bin-path)/http-ceiling"
WORK=$(mktemp -d /tmp/send-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export REBILLY_API_KEY=bench-key

gen() {  # gen N FILE PREFIX
  python3 - "$1" "$2" "$3" <<'PY'
import sys
n, path, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, "w") as f:
    f.write("websiteId,customerId,currency,balance,bonusBalance,pendingPayoutTotal,deposit.amounts\n")
    for i in range(n):
        f.write(f"web_01J8ZK4Q7M2XR5T9VB3C6NDWEH,{prefix}{i:08d},USD,{i % 100000}.{i % 100:02d},0,{i % 50}.00,20;50;100\n")
PY
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_sandbox() {  # start_sandbox PORT [ARGS…]
  local port=$1; shift
  "$BIN" sandbox --port "$port" --api-key bench-key "$@" > "$WORK/sandbox-$port.log" 2>&1 &
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/_sandbox/health" >/dev/null && return; sleep 0.1; done
  echo "sandbox did not start"; cat "$WORK/sandbox-$port.log"; exit 1
}
stats() { curl -s -H "REB-APIKEY: bench-key" "http://127.0.0.1:$1/_sandbox/stats"; }

echo "## Sending benchmarks ($(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
echo
# 1. Throughput.
if [ "${SKIP_THROUGHPUT:-0}" != 1 ]; then
PORT=$(free_port); start_sandbox "$PORT"
gen "$ROWS" "$WORK/batch.csv" cus_
/usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$BIN" run "$WORK/batch.csv" --api-url "http://127.0.0.1:$PORT" \
  --db "$WORK/ledger.sqlite" --rate 1000000/s --concurrency 64 > "$WORK/run.log" 2>&1 || { echo "run failed:"; tail -5 "$WORK/run.log"; exit 1; }
read -r WALL USER SYS RSS < "$WORK/time.txt"
REQS=$(stats "$PORT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requestsTotal"])')
DUPS=$(stats "$PORT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["duplicateDepositRequests"])')
SPAN=$(sqlite3 "$WORK/ledger.sqlite" "select (julianday(max(finished_at)) - julianday(min(requested_at))) * 86400 from attempts")
# async-http-client alone, the same two requests per customer, same concurrency, same sandbox.
CEIL_RPS=$("$CEILING" "http://127.0.0.1:$PORT" bench-key "$ROWS" 64)
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["REB-APIKEY"] = "bench-key"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/cashiers", nil, string.format('{"websiteId":"web_wrk","customerId":"wrk_%d_%d","currency":"USD","balance":10.50}', math.random(1, 1000000000), counter))
end
LUA
WRK_RPS=$(wrk -t2 -c64 -d10s -s "$WORK/post.lua" "http://127.0.0.1:$PORT" | awk '/Requests\/sec/ {print $2}')
python3 - "$ROWS" "$WALL" "$USER" "$SYS" "$REQS" "$WRK_RPS" "$DUPS" "$RSS" "$SPAN" "$CEIL_RPS" <<'PY'
import sys
rows, wall, user, sys_, reqs, wrk, dups, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), sys.argv[7], int(sys.argv[8])
span, ceiling = float(sys.argv[9]), float(sys.argv[10])
rps = reqs / wall
print("| measure | value |")
print("|---|---|")
print(f"| rows | {rows} |")
print(f"| wall seconds | {wall:.2f} |")
print(f"| rows/s | {rows / wall:,.0f} |")
print(f"| requests/s (job, whole process: start, staging, sending, reconciling, reports) | {rps:,.0f} |")
print(f"| requests/s (job, sending: first request to last answer) | {reqs / span:,.0f} |")
print(f"| CPU seconds per 1,000 rows (job) | {(user + sys_) / rows * 1000:.3f} |")
print(f"| peak RSS (job) | {rss / 1024:.1f} MB |")
print(f"| wrk POST /cashiers requests/s (same sandbox, same run) | {wrk:,.0f} |")
print(f"| async-http-client alone, same requests (Benchmarks/HTTPCeiling) requests/s | {ceiling:,.0f} |")
print(f"| job ÷ wrk | {rps / wrk:.2f} whole process, {reqs / span / wrk:.2f} sending (target ≥ 0.35) |")
print(f"| async-http-client alone ÷ wrk | {ceiling / wrk:.2f} |")
print(f"| job ÷ async-http-client alone | {rps / ceiling:.2f} whole process, {reqs / span / ceiling:.2f} sending |")
print(f"| duplicate deposit requests | {dups} |")
PY
kill %1 2>/dev/null || true
echo
fi
# 2. Rate precision.
if [ "${SKIP_RATE:-0}" != 1 ]; then
  PORT=$(free_port); start_sandbox "$PORT" --rate 50/s
  gen 1500 "$WORK/rate.csv" rate_
  START=$(date +%s.%N)
  "$BIN" run "$WORK/rate.csv" --api-url "http://127.0.0.1:$PORT" --db "$WORK/rate.sqlite" --rate 50/s --concurrency 16 > "$WORK/rate.log" 2>&1 || true
  END=$(date +%s.%N)
  stats "$PORT" > "$WORK/rate-stats.json"
  FAILED=$(sqlite3 "$WORK/rate.sqlite" "select count(*) from rows where state <> 'done'")
  # The sending period: first request to last answer, from the ledger's attempts.
  SPAN=$(sqlite3 "$WORK/rate.sqlite" "select (julianday(max(finished_at)) - julianday(min(requested_at))) * 86400 from attempts")
  python3 - "$START" "$END" "$WORK/rate-stats.json" "$FAILED" "$SPAN" <<'PY'
import json, sys
start, end, stats, failed, span = float(sys.argv[1]), float(sys.argv[2]), json.load(open(sys.argv[3])), int(sys.argv[4]), float(sys.argv[5])
total, limited = stats["requestsTotal"], stats["rateLimited"]
accepted = total - limited
secs = end - start
print("| rate run (--rate 50/s, sandbox 50/s) | value |")
print("|---|---|")
print(f"| process seconds (start, staging, sending, reconciling, reports) | {secs:.1f} |")
print(f"| sending seconds (first request to last answer) | {span:.1f} |")
print(f"| accepted requests/s while sending | {accepted / span:.2f} ({accepted / span / 50:.1%} of 50; target ≥ 97%) |")
print(f"| accepted requests/s over the whole process | {accepted / secs:.2f} ({accepted / secs / 50:.1%} of 50) |")
print(f"| 429s | {limited} of {total} ({limited / max(total, 1):.2%}; target ≤ 1%) |")
print(f"| rows not done | {failed} |")
PY
fi
