# Sourced by the benchmark scripts (from the package root): sets BIN to the cashier-batch binary,
# CASHIER_BATCH_BIN if set, else the first of the release dist, the release and the debug build.
# Needs a `die` function.
BIN="${CASHIER_BATCH_BIN:-}"
if [ -z "$BIN" ]; then
    for candidate in .build-release/dist/cashier-batch .build/release/cashier-batch .build/debug/cashier-batch; do
        if [ -x "$candidate" ]; then BIN="$candidate"; break; fi
    done
fi
[ -n "$BIN" ] && [ -x "$BIN" ] || die "no cashier-batch binary: run Jobs/build-release.sh or set CASHIER_BATCH_BIN"
