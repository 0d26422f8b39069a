#!/usr/bin/env bash
# The runtime side of Jobs/Containerfile, proved without a container engine or a registry:
# the release binary (Jobs/build-release.sh) runs `demo` in a minimal Debian root holding
# only the packages of Jobs/runtime-packages.txt, prepared by Jobs/runtime-setup.sh (the
# script the Containerfile's runtime stage runs), as the non-root user cashier-batch.
#
#   .ci/runtime-check.sh BINARY
#
# 1. The bookworm root of .ci/runtime-root.sh (`debootstrap --variant=minbase` with only the
#    runtime packages, cached as a tarball under $CASHIER_BATCH_CI_CACHE); every run unpacks a
#    fresh copy of it.
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
[[ $(id -u) == 0 ]] || cannot "needs root for chroot and namespaces"
# Exit 2: it cannot be made here (it said why).
tarball=$("$repo/.ci/runtime-root.sh") || { [[ $? == 2 ]] && cannot "no debootstrap root (line above)"; echo "FAIL: runtime-check: .ci/runtime-root.sh failed (lines above)" >&2; exit 1; }
packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | tr '\n' ' ')

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
mkdir -p "$root"
tar -xpzf "$tarball" --numeric-owner -C "$root"
echo "runtime-check: root unpacked from $tarball ($((SECONDS - t0)) s)"

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
"$repo/.ci/in-root.sh" "$root" /usr/bin/setpriv --reuid=cashier-batch --regid=cashier-batch --init-groups \
    /usr/bin/env -i HOME=/var/lib/cashier-batch PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    /bin/sh -c "cd /var/lib/cashier-batch && id && cashier-batch demo --out /tmp/demo --sample-data /usr/share/cashier-batch/SampleData" \
    >"$work/demo.log" 2>&1
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
