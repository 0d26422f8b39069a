#!/usr/bin/env bash
# Runs COMMAND chrooted in ROOT, in PID and mount namespaces of its own (its own /proc, the
# host's /dev bound in) and a network namespace with loopback only: nothing it starts can reach
# past the machine, and everything it started ends with it.
#
#   .ci/in-root.sh ROOT COMMAND [ARG…]
set -euo pipefail
root=${1:?usage: .ci/in-root.sh ROOT COMMAND [ARG…]}
shift
exec unshare --mount --pid --fork --net --mount-proc="$root/proc" /bin/sh -c '
    root=$1; shift
    ip link set lo up
    mount --rbind /dev "$root/dev"
    exec chroot "$root" "$@"
' sh "$root" "$@"
