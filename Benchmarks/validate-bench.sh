#!/usr/bin/env bash
# Benchmark `cashier-batch validate` on CSV, JSONL and JSONL.gz next to anchors
# measured in the same run (zcat, Python csv.reader, Python gzip + json.loads,
# Python json.loads), and check the targets of issue 2.
#
# usage: Benchmarks/validate-bench.sh [ROWS=1000000]
#
# Environment (all optional):
#   SKIP_BUILD=1          do not run `swift build`, use the existing release binary
#   CASHIER_BATCH_BIN=... use this binary instead of the release build
#   ANCHORS_ONLY=1        measure only the anchors (no Swift build, no validate)
#   PYTHON=python3        the Python used for the generator and the anchors
#   RUNS=3                runs per case (best is kept)
#
# Output: a markdown table on stdout, also written to bench-data/validate-results.md.
set -euo pipefail

ROWS="${1:-1000000}"
if ! [[ "$ROWS" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [ROWS=1000000]" >&2
    exit 64
fi
RUNS="${RUNS:-3}"
export RUNS
PYTHON="${PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
cd "$ROOT"
OUT="bench-data"
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/validate-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log() { echo "== $*" >&2; }
die() { echo "validate-bench: $*" >&2; exit 1; }

# --- /usr/bin/time (GNU time) -------------------------------------------------
if [ ! -x /usr/bin/time ]; then
    log "installing GNU time (/usr/bin/time)"
    if [ "$(id -u)" = 0 ]; then apt-get install -y time >&2; else sudo apt-get install -y time >&2; fi
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is required (apt-get install -y time)"

# --- 1. build -----------------------------------------------------------------
BIN=""
if [ "${ANCHORS_ONLY:-0}" != 1 ]; then
    if [ -n "${CASHIER_BATCH_BIN:-}" ]; then
        BIN="$CASHIER_BATCH_BIN"
    else
        if [ "${SKIP_BUILD:-0}" != 1 ]; then
            log "swift build -c release --product cashier-batch"
            swift build -c release --product cashier-batch >&2
        fi
        BIN="$(swift build -c release --show-bin-path)/cashier-batch"
    fi
    [ -x "$BIN" ] || die "no executable at $BIN"
fi

# --- 2. generate (cached: regenerated when ROWS or the generator changes) -----
STAMP="$ROWS $(sha256sum "$HERE/gen_batch.py" | cut -d' ' -f1)"
if [ ! -f "$OUT/.gen-stamp" ] || [ "$(cat "$OUT/.gen-stamp")" != "$STAMP" ] \
    || [ ! -f "$OUT/batch.csv" ] || [ ! -f "$OUT/batch.jsonl" ] || [ ! -f "$OUT/batch.jsonl.gz" ]; then
    log "generating $ROWS rows into $OUT/"
    rm -f "$OUT/.gen-stamp"
    "$PYTHON" "$HERE/gen_batch.py" "$ROWS" "$OUT"
    echo "$STAMP" > "$OUT/.gen-stamp"
else
    log "reusing $OUT/batch.{csv,jsonl,jsonl.gz} ($ROWS rows)"
fi

# --- 3. measure ---------------------------------------------------------------
RESULTS="$WORK/results.tsv"
: > "$RESULTS"

# measure KEY LABEL CHECK CMD...
#   CHECK=count: stdout must be the row count ROWS; CHECK=null: stdout goes to /dev/null.
#   A non-zero exit fails the benchmark (stderr head shown).
measure() {
    local key="$1" label="$2" check="$3"
    shift 3
    local best="" peak=0 i t0 t1 secs rss rc
    for ((i = 1; i <= RUNS; i++)); do
        rc=0
        t0=$(date +%s%N)
        if [ "$check" = count ]; then
            /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" > "$WORK/stdout" 2> "$WORK/stderr" || rc=$?
        else
            /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" > /dev/null 2> "$WORK/stderr" || rc=$?
        fi
        t1=$(date +%s%N)
        if [ "$rc" != 0 ]; then
            echo "validate-bench: FAILED ($label): exit code $rc from: $*" >&2
            echo "--- stderr (head) ---" >&2
            head -n 20 "$WORK/stderr" >&2
            exit 1
        fi
        if [ "$check" = count ] && [ "$(tr -d '[:space:]' < "$WORK/stdout")" != "$ROWS" ]; then
            die "$label read $(tr -d '[:space:]' < "$WORK/stdout") rows, expected $ROWS"
        fi
        # wall seconds from a nanosecond clock (GNU time's %e has only 2 decimals); RSS from %M (KB)
        secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        rss=$(tail -n 1 "$WORK/time" | awk '{ print $2 }')
        log "$label run $i: ${secs}s, $((rss / 1024)) MB"
        if [ -z "$best" ] || awk -v s="$secs" -v b="$best" 'BEGIN { exit !(s < b) }'; then best="$secs"; fi
        if [ "$rss" -gt "$peak" ]; then peak="$rss"; fi
    done
    printf '%s\t%s\t%s\t%s\n' "$key" "$label" "$best" "$peak" >> "$RESULTS"
}

skip() { printf '%s\t%s\t-\t-\n' "$1" "$2" >> "$RESULTS"; }

measure zcat "zcat batch.jsonl.gz > /dev/null" null zcat "$OUT/batch.jsonl.gz"
measure py_csv "Python csv.reader, batch.csv" count "$PYTHON" "$HERE/anchors.py" csv "$OUT/batch.csv"
measure py_gzjson "Python gzip + json.loads, batch.jsonl.gz" count "$PYTHON" "$HERE/anchors.py" gzjson "$OUT/batch.jsonl.gz"
measure py_json "Python json.loads, batch.jsonl" count "$PYTHON" "$HERE/anchors.py" json "$OUT/batch.jsonl"
if [ -n "$BIN" ]; then
    measure validate_csv "cashier-batch validate batch.csv" null "$BIN" validate "$OUT/batch.csv"
    measure validate_jsonl "cashier-batch validate batch.jsonl" null "$BIN" validate "$OUT/batch.jsonl"
    measure validate_gz "cashier-batch validate batch.jsonl.gz" null "$BIN" validate "$OUT/batch.jsonl.gz"
else
    skip validate_csv "cashier-batch validate batch.csv"
    skip validate_jsonl "cashier-batch validate batch.jsonl"
    skip validate_gz "cashier-batch validate batch.jsonl.gz"
fi

# --- 4. report ----------------------------------------------------------------
CPU="$(grep -m1 -E '^(model name|Model|cpu model)' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
[ -n "$CPU" ] || CPU="$(uname -m)"
{
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- machine: $(nproc) CPUs, $CPU, $(awk '/MemTotal/ { printf "%.1f GB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Python: $("$PYTHON" --version 2>&1); zcat: $(zcat --version 2>/dev/null | head -n 1)"
    if [ -n "$BIN" ]; then
        echo "- binary: \`$BIN\` ($(swift --version 2>/dev/null | head -n 1 || echo 'swift version unknown'))"
    fi
    mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
    echo "- files: batch.csv $(mb "$OUT/batch.csv"), batch.jsonl $(mb "$OUT/batch.jsonl"), batch.jsonl.gz $(mb "$OUT/batch.jsonl.gz") (generated by \`Benchmarks/gen_batch.py $ROWS\`, reused while ROWS and the generator are unchanged)"
} > "$WORK/info"
"$PYTHON" "$HERE/bench_report.py" "$RESULTS" "$ROWS" "$WORK/info" | tee "$OUT/validate-results.md"
log "written to $OUT/validate-results.md"
