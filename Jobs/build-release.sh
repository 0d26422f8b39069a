#!/usr/bin/env bash
# Builds the release binary of cashier-batch with the Swift runtime (stdlib, Foundation,
# Dispatch) linked statically, strips it, and prints the path of the stripped binary on
# stdout (the last line; build output goes to stderr).
#
#   Jobs/build-release.sh [--scratch-path DIR] [--out DIR]
#
#   --scratch-path DIR  SwiftPM build folder (default: .build-release in the package root)
#   --out DIR           where the stripped binary goes (default: SCRATCH/dist)
#
# The binary still loads the system's libsqlite3 and zlib (GRDB and the gzip reader link
# them) and glibc; `ldd` shows the list. On Debian: apt-get install libsqlite3-0 zlib1g
# (plus ca-certificates and tzdata for TLS and time zones). The build machine needs
# libsqlite3-dev and zlib1g-dev.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$root/.build-release
out=
while [[ $# -gt 0 ]]; do
    case $1 in
        --scratch-path) scratch=${2:?--scratch-path needs a directory}; shift 2 ;;
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "$0: unknown argument: $1" >&2; exit 64 ;;
    esac
done
case $scratch in /*) ;; *) scratch=$PWD/$scratch ;; esac
out=${out:-$scratch/dist}
case $out in /*) ;; *) out=$PWD/$out ;; esac

cd "$root"
swift build -c release --static-swift-stdlib --product cashier-batch --scratch-path "$scratch" >&2
bin_dir=$(swift build -c release --static-swift-stdlib --product cashier-batch --scratch-path "$scratch" --show-bin-path)
mkdir -p "$out"
# Strip into a temporary file, then rename: a half-written binary never sits at the final path.
strip --strip-all -o "$out/cashier-batch.tmp" "$bin_dir/cashier-batch"
chmod 0755 "$out/cashier-batch.tmp"
mv -f "$out/cashier-batch.tmp" "$out/cashier-batch"
# A binary that cannot start (a missing library, a bad link) fails the build here, not at night.
"$out/cashier-batch" --help >/dev/null
echo "$out/cashier-batch"
