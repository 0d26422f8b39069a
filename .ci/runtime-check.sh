#!/usr/bin/env bash
# The runtime side of Jobs/Containerfile, proved without a container engine or a registry:
# the release binary (Jobs/build-release.sh) runs `demo` in a minimal Debian root holding
# only the packages of Jobs/runtime-packages.txt, prepared by Jobs/runtime-setup.sh (the
# script the Containerfile's runtime stage runs), as the non-root user cashier-batch.
#
#   .ci/runtime-check.sh BINARY
#
# 1. A bookworm root from `debootstrap --variant=minbase --include=<runtime packages>`, from
#    the Debian mirror and suite this machine's apt sources name. It is cached as a tarball
#    under $CASHIER_BATCH_CI_CACHE (default /var/cache/cashier-batch-ci), keyed by the package
#    list, suite, mirror and architecture; every run unpacks a fresh copy of it.
# 2. Jobs/runtime-setup.sh inside it (user and group 10001, /var/lib/cashier-batch 0700).
# 3. `ldd` of the binary inside the root: every library must come from libc6 or from a
#    package of Jobs/runtime-packages.txt (asked of the root's dpkg), and none be missing.
# 4. `cashier-batch demo --out /tmp/demo` in the root as cashier-batch, in its own network
#    namespace (loopback only: the demo's sandbox is in-process), must exit 0 and write
#    report.html.
#
# Needs root (debootstrap, chroot, namespaces). Without it, or without a usable debootstrap,
# the check says why and is skipped, except with CI=true, where it fails: CI runs as root on
# a Debian machine that reaches the Debian mirror, so there it must run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: .ci/runtime-check.sh BINARY}
[[ -x $bin ]] || { echo "FAIL: runtime-check: no executable binary at $bin" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
list=$repo/Jobs/runtime-packages.txt

cannot() {
    if [[ ${CI:-} == true ]]; then echo "FAIL: runtime-check cannot run: $*" >&2; exit 1; fi
    echo "SKIP: runtime-check: $* (this check is required only with CI=true)"
    exit 0
}
[[ $(id -u) == 0 ]] || cannot "needs root for debootstrap and chroot"
[[ -r /etc/os-release ]] || cannot "no /etc/os-release"
if ! command -v debootstrap >/dev/null; then
    command -v apt-get >/dev/null || cannot "no debootstrap and no apt-get to install it"
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null || cannot "could not install debootstrap"
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
echo "runtime-check: $suite ($arch) from $mirror; packages: $packages"

work=$(mktemp -d /var/tmp/cashier-batch-runtime.XXXXXX)
root=$work/root
cleanup() {
    # The mounts below live in a private mount namespace that ended with its process; never
    # delete through a mount that is somehow still there.
    if findmnt -rn -o TARGET | grep -q "^$work"; then
        echo "runtime-check: leaving $work (still mounted)" >&2
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT

t0=$SECONDS
if [[ -s $tarball ]]; then
    mkdir -p "$root"
    tar -xpzf "$tarball" --numeric-owner -C "$root"
    echo "runtime-check: root unpacked from cache $tarball ($((SECONDS - t0)) s)"
else
    echo "runtime-check: debootstrap --variant=minbase --include=$include $suite (no cache at $tarball)"
    if ! debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        echo "FAIL: runtime-check: debootstrap failed (log above)" >&2
        exit 1
    fi
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    mkdir -p "$cache"
    tar -cpzf "$tarball.tmp.$$" --numeric-owner -C "$root" .
    mv -f "$tarball.tmp.$$" "$tarball"
    # Roots of an older package list or suite are never used again.
    find "$cache" -maxdepth 1 -name 'runtime-root-*.tar.gz' ! -path "$tarball" -delete
    echo "runtime-check: root built and cached as $tarball ($((SECONDS - t0)) s, $(du -sh "$tarball" | cut -f1))"
fi

# What the Containerfile's runtime stage does, in the same order.
mkdir -p "$root/tmp/setup" "$root/usr/share/cashier-batch"
cp "$list" "$repo/Jobs/runtime-setup.sh" "$root/tmp/setup/"
chroot "$root" /bin/sh /tmp/setup/runtime-setup.sh /tmp/setup/runtime-packages.txt
rm -rf "$root/tmp/setup"
install -m 0755 "$bin" "$root/usr/local/bin/cashier-batch"
rm -rf "$root/usr/share/cashier-batch/SampleData"
cp -r "$repo/SampleData" "$root/usr/share/cashier-batch/SampleData"
chroot "$root" id cashier-batch

# Every library the binary loads comes from libc6 or a listed package.
allowed=" libc6 $packages "
chroot "$root" ldd /usr/local/bin/cashier-batch >"$work/ldd.txt" 2>&1 || { cat "$work/ldd.txt"; echo "FAIL: ldd failed in the root" >&2; exit 1; }
echo "runtime-check: ldd /usr/local/bin/cashier-batch (in the root):"
bad=0
while read -r line; do
    case $line in
        *"not found"*) echo "  $line   <- MISSING"; bad=1; continue ;;
        linux-vdso*) echo "  $line   (kernel)"; continue ;;
    esac
    path=$(sed -n -e 's/.*=> \(\/[^ ]*\).*/\1/p' -e 't' -e 's/^\(\/[^ ]*\).*/\1/p' <<<"$line")
    [[ -n $path ]] || { echo "  $line   <- unparsed"; bad=1; continue; }
    # dpkg knows a file under the path it was packaged at: /lib/… or /usr/lib/… (merged /usr).
    owner=
    for p in "$path" "${path#/usr}" "/usr$path" $(chroot "$root" readlink -f "$path"); do
        owner=$(chroot "$root" dpkg-query -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1) && [[ -n $owner ]] && break
    done
    if [[ -n $owner && $allowed == *" $owner "* ]]; then
        echo "  $line   [$owner]"
    else
        echo "  $line   [${owner:-no package}]   <- NOT ALLOWED (allowed: libc6 $packages)"
        bad=1
    fi
done <"$work/ldd.txt"
[[ $bad == 0 ]] || { echo "FAIL: runtime-check: the binary needs libraries outside Jobs/runtime-packages.txt" >&2; exit 1; }
echo "ok: every library of the binary comes from libc6 or Jobs/runtime-packages.txt"

# The demo, as cashier-batch, with /proc and /dev of its own namespace, loopback only.
t1=$SECONDS
set +e
unshare --mount --pid --fork --net --mount-proc="$root/proc" /bin/sh -c '
    root=$1
    ip link set lo up
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/setpriv --reuid=cashier-batch --regid=cashier-batch --init-groups \
        /usr/bin/env -i HOME=/var/lib/cashier-batch PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        /bin/sh -c "cd /var/lib/cashier-batch && id && cashier-batch demo --out /tmp/demo --sample-data /usr/share/cashier-batch/SampleData"
' sh "$root" >"$work/demo.log" 2>&1
rc=$?
set -e
head -n 1 "$work/demo.log"
tail -n 3 "$work/demo.log"
if [[ $rc != 0 ]]; then
    cat "$work/demo.log"; echo "FAIL: runtime-check: demo in the root exited $rc" >&2; exit 1
fi
[[ -s $root/tmp/demo/report.html ]] || { echo "FAIL: runtime-check: the demo wrote no report.html" >&2; exit 1; }
owner=$(stat -c %u:%g "$root/tmp/demo/report.html")
[[ $owner == 10001:10001 ]] || { echo "FAIL: report.html is owned by $owner, not the cashier-batch user" >&2; exit 1; }
echo "ok: demo in the minimal root as cashier-batch (uid 10001) exited 0 and wrote report.html ($(stat -c %s "$root/tmp/demo/report.html") bytes, $((SECONDS - t1)) s)"
