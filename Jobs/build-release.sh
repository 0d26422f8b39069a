#!/usr/bin/env bash
# Builds the release binary of cashier-batch with the Swift runtime (stdlib, Foundation,
# Dispatch) linked statically, strips it, and prints the path of the stripped binary on
# stdout (the last line; build output goes to stderr).
#
#   Jobs/build-release.sh [--scratch-path DIR] [--out DIR] [--man]
#
#   --scratch-path DIR  SwiftPM build folder (default: .build-release in the package root)
#   --out DIR           where the stripped binary goes (default: SCRATCH/dist)
#   --man               also write OUT/cashier-batch.1, the man page swift-argument-parser's
#                       generate-manual tool (the tool of its generate-manual plugin, built as a
#                       product in the same scratch folder: about half a minute) makes from the
#                       binary's own help. Jobs/install.sh installs it when it is beside the binary.
#
# The binary still loads the system's libsqlite3 and zlib (GRDB and the gzip reader link
# them), libstdc++ and libgcc_s (the static Foundation needs them) and glibc; `ldd` shows the
# list, Jobs/runtime-packages.txt names their Debian packages (plus ca-certificates and tzdata
# for TLS and time zones). The build machine needs libsqlite3-dev and zlib1g-dev.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$root/.build-release
out=
man=false
while [[ $# -gt 0 ]]; do
    case $1 in
        --scratch-path) scratch=${2:?--scratch-path needs a directory}; shift 2 ;;
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --man) man=true; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "$0: unknown argument: $1" >&2; exit 64 ;;
    esac
done
case $scratch in /*) ;; *) scratch=$PWD/$scratch ;; esac
out=${out:-$scratch/dist}
case $out in /*) ;; *) out=$PWD/$out ;; esac

cd "$root"
# The commit `--version` names (Package.swift reads CASHIER_BATCH_COMMIT): the one given (the
# Containerfile passes its COMMIT argument, as its context has no .git), else this checkout's
# HEAD, with "-dirty" when tracked files differ from it; "unknown" outside a git checkout.
if [[ -z ${CASHIER_BATCH_COMMIT:-} ]] && CASHIER_BATCH_COMMIT=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null); then
    git -C "$root" diff --quiet HEAD -- 2>/dev/null || CASHIER_BATCH_COMMIT+=-dirty
fi
export CASHIER_BATCH_COMMIT=${CASHIER_BATCH_COMMIT:-unknown}
echo "commit: $CASHIER_BATCH_COMMIT" >&2
# Linked by the toolchain's own lld: gold, the default here, prints glibc's link-time note
# "the use of `mktemp' is dangerous" for FoundationEssentials' temporary files, which open the
# name with O_CREAT|O_EXCL and retry, as mkstemp does (README, Deploy: the release build's warnings).
release=(-c release --static-swift-stdlib -Xswiftc -use-ld=lld --scratch-path "$scratch")
swift build "${release[@]}" --product cashier-batch >&2
bin_dir=$(swift build "${release[@]}" --product cashier-batch --show-bin-path)
mkdir -p "$out"
# Strip into a temporary file, then rename: a half-written binary never sits at the final path.
strip --strip-all -o "$out/cashier-batch.tmp" "$bin_dir/cashier-batch"
chmod 0755 "$out/cashier-batch.tmp"
mv -f "$out/cashier-batch.tmp" "$out/cashier-batch"
# A binary that cannot start (a missing library, a bad link) fails the build here, not at night.
"$out/cashier-batch" --help >/dev/null
# It names the commit it was told (a stale build would name another).
version=$("$out/cashier-batch" --version)
[[ $version == *"(commit $CASHIER_BATCH_COMMIT, Swift "* ]] \
    || { echo "$0: the binary says '$version', not commit $CASHIER_BATCH_COMMIT" >&2; exit 70; }
echo "$version" >&2
if $man; then
    # The page is made from the binary's own help (--experimental-dump-help), as the plugin does.
    swift build "${release[@]}" --product generate-manual >&2 \
        || { echo "$0: swift-argument-parser's generate-manual tool did not build: no man page" >&2; exit 70; }
    pages=$(mktemp -d)
    "$bin_dir/generate-manual" "$out/cashier-batch" --output-directory "$pages" >&2 \
        || { rm -rf "$pages"; echo "$0: generate-manual failed: no man page" >&2; exit 70; }
    [[ -s $pages/cashier-batch.1 ]] || { rm -rf "$pages"; echo "$0: generate-manual wrote no cashier-batch.1" >&2; exit 70; }
    install -m 0644 "$pages/cashier-batch.1" "$out/cashier-batch.1"
    rm -rf "$pages"
    echo "man page: $out/cashier-batch.1" >&2
fi
echo "$out/cashier-batch"
