#!/bin/sh
# Prepares a Debian root to run cashier-batch: the runtime packages of
# Jobs/runtime-packages.txt, the cashier-batch user and group (uid/gid 10001) and the
# ledger directory /var/lib/cashier-batch (0700, owned by it). Run as root inside the root:
# the runtime stage of Jobs/Containerfile runs it, and .ci/runtime-check.sh runs it in
# its debootstrap root. Idempotent.
#
#   runtime-setup.sh PACKAGE-LIST
set -eu
list=${1:?usage: runtime-setup.sh PACKAGE-LIST}
pkgs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | tr '\n' ' ')
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
    rm -rf /var/lib/apt/lists/*
fi
getent group cashier-batch >/dev/null || groupadd --system --gid 10001 cashier-batch
getent passwd cashier-batch >/dev/null || useradd --system --uid 10001 --gid cashier-batch \
    --home-dir /var/lib/cashier-batch --no-create-home --shell /usr/sbin/nologin \
    --comment 'cashier-batch nightly job' cashier-batch
install -d -o cashier-batch -g cashier-batch -m 0700 /var/lib/cashier-batch
