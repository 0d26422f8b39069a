#!/usr/bin/env bash
# A night under faults: ROWS rows against a local sandbox answering 20 % of requests with a
# 5xx (nothing created) and dropping 20 % after committing them, --concurrency 16, a short
# --in-doubt-settle. Each build given runs the same batch on a fresh sandbox with the same
# seed, ROUNDS times, alternating. Prints wall seconds, rows done, duplicate deposit requests,
# rows in doubt at least once, and the slowest row's own path (first call → last answer).
#
# usage: Benchmarks/parked-night.sh SETTLE_SECONDS ROWS ROUNDS BIN [BIN…]
set -euo pipefail
SETTLE=$1; ROWS=$2; ROUNDS=$3; shift 3
SANDBOX_BIN=${!#}
WORK=$(mktemp -d /tmp/parked-night.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export REBILLY_API_KEY=bench-key
python3 -c "
print('websiteId,customerId,currency,balance,pendingPayoutTotal,deposit.amounts')
for i in range($ROWS): print(f'web_1,cus_{i},USD,{i}.25,1.50,10;20')" > "$WORK/b.csv"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
echo "| round | build | wall s | rows done | duplicates | rows in doubt ≥ once | slowest row's path s |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  for bin in "$@"; do
    PORT=$(free_port)
    "$SANDBOX_BIN" sandbox --port "$PORT" --api-key bench-key --fail-rate 0.2 --drop-rate 0.2 --latency 2ms..10ms --seed 2026 > "$WORK/sb.log" 2>&1 &
    SB=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/_sandbox/health" >/dev/null && break; sleep 0.1; done
    rm -f "$WORK/l.sqlite"*
    START=$(date +%s.%N)
    "$bin" run "$WORK/b.csv" --api-url "http://127.0.0.1:$PORT" --db "$WORK/l.sqlite" --rate 1000/s --concurrency 16 \
      --max-attempts 12 --in-doubt-settle "$SETTLE" --report-dir "$WORK/r" > "$WORK/run.log" 2>&1 || true
    END=$(date +%s.%N)
    DUPS=$(curl -s -H "REB-APIKEY: bench-key" "http://127.0.0.1:$PORT/_sandbox/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["duplicateDepositRequests"])')
    kill "$SB"; wait "$SB" 2>/dev/null || true
    DONE=$(sqlite3 "$WORK/l.sqlite" "select count(*) from rows where state = 'done'")
    DOUBT=$(sqlite3 "$WORK/l.sqlite" "select count(distinct row_id) from attempts where operation = 'create_deposit_request' and outcome = 'lost'")
    SLOW=$(sqlite3 "$WORK/l.sqlite" "select max(s) from (select (julianday(max(coalesce(finished_at, requested_at))) - julianday(min(requested_at))) * 86400 as s from attempts group by row_id)")
    printf '| %s | %s | %.1f | %s | %s | %s | %.1f |\n' "$round" "$bin" \
      "$(echo "$END - $START" | bc -l)" "$DONE" "$DUPS" "$DOUBT" "$SLOW"
  done
done
