#!/usr/bin/env bash
# The debootstrap minbase root that CI runs the binary in, made once and cached as a tarball:
#
#   .ci/runtime-root.sh        prints the tarball's path (its only line on stdout)
#
# A bookworm root from `debootstrap --variant=minbase --include=<Jobs/runtime-packages.txt>`,
# from the Debian mirror and suite this machine's apt sources name, cached under
# $CASHIER_BATCH_CI_CACHE (default /var/cache/cashier-batch-ci), keyed by the package list,
# suite, mirror and architecture. .ci/runtime-check.sh unpacks it to run the binary,
# Jobs/image-test.sh `podman import`s it as the image's base, .ci/deploy-check.sh runs the
# README's Deploy commands in it.
#
# Needs root (debootstrap). Without it, or without a usable debootstrap, it says why and exits
# 2 (callers skip), except with CI=true, where it fails (exit 1): CI runs as root on a Debian
# machine that reaches the Debian mirror, so there it must work.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
list=$repo/Jobs/runtime-packages.txt

cannot() {
    if [[ ${CI:-} == true ]]; then echo "FAIL: runtime-root cannot be made: $*" >&2; exit 1; fi
    echo "SKIP: runtime-root: $* (required only with CI=true)" >&2
    exit 2
}
[[ $(id -u) == 0 ]] || cannot "needs root for debootstrap"
[[ -r /etc/os-release ]] || cannot "no /etc/os-release"
if ! command -v debootstrap >/dev/null; then
    command -v apt-get >/dev/null || cannot "no debootstrap and no apt-get to install it"
    apt-get install -y -qq --no-install-recommends debootstrap >&2 || cannot "could not install debootstrap"
fi

# The suite and mirror this machine's apt uses (deb822 .sources first, then one-line lists).
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $suite ]] || cannot "/etc/os-release names no VERSION_CODENAME"
mirror=${CASHIER_BATCH_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        mirror=$(awk -v s="$suite" '
            /^[[:space:]]*$/ { if (u != "" && ok) { print u; exit } u = ""; ok = 0; next }
            /^URIs:/   { u = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
            END { if (u != "" && ok) print u }' "$f" | head -n 1)
        [[ -n $mirror ]] && break
    done
fi
if [[ -z $mirror ]] && [[ -r /etc/apt/sources.list ]]; then
    mirror=$(awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}
arch=$(dpkg --print-architecture)
packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | tr '\n' ' ')
include=$(echo $packages | tr ' ' ',')
key=$(printf '%s\n' "minbase v1" "$suite" "$mirror" "$arch" "$packages" | sha256sum | cut -c1-16)
cache=${CASHIER_BATCH_CI_CACHE:-/var/cache/cashier-batch-ci}
tarball=$cache/runtime-root-$suite-$arch-$key.tar.gz
[[ -s $tarball ]] && { echo "$tarball"; exit 0; }

work=$(mktemp -d /var/tmp/cashier-batch-root.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
root=$work/root
t0=$SECONDS
echo "runtime-root: debootstrap --variant=minbase --include=$include $suite ($arch) from $mirror (no cache at $tarball)" >&2
if ! debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    echo "FAIL: runtime-root: debootstrap failed (log above)" >&2
    exit 1
fi
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
mkdir -p "$cache"
tar -cpzf "$tarball.tmp.$$" --numeric-owner -C "$root" .
mv -f "$tarball.tmp.$$" "$tarball"
# Roots of an older package list or suite are never used again.
find "$cache" -maxdepth 1 -name 'runtime-root-*.tar.gz' ! -path "$tarball" -delete
echo "runtime-root: built and cached as $tarball ($((SECONDS - t0)) s, $(du -sh "$tarball" | cut -f1))" >&2
echo "$tarball"
