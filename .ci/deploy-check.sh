#!/usr/bin/env bash
# The README's Deploy walk-through ("A plain Debian host"), run as written:
#
#   .ci/deploy-check.sh BINARY
#
# The commands are the `$ ` lines (with their `\` continuation lines) of the fenced block that
# follows the line `<!-- .ci/deploy-check.sh runs the next block -->` in README.md, taken from
# the README itself so that the two cannot drift apart. They run in order, in one bash with
# `set -e`, as root, in a fresh copy of the debootstrap minbase root of .ci/runtime-root.sh,
# which stands for the operator's plain Debian host: this checkout's tracked files are copied
# to /root/cashier-batch (the clone the walk-through starts in) with BINARY, and its man page
# when there is one, in .build-release/dist (what Jobs/build-release.sh --man made on the build
# machine). Loopback only. Then it checks what the walk-through must have left: the user
# 10001, the key file 0400, the night's run with every row done, its reports owned by 10001.
#
# Needs root. Without it the check says why and is skipped, except with CI=true.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?usage: .ci/deploy-check.sh BINARY}
[[ -x $bin ]] || { echo "FAIL: deploy-check: no executable binary at $bin" >&2; exit 1; }
fail() { echo "FAIL: deploy-check: $*" >&2; exit 1; }
cannot() {
    [[ ${CI:-} == true ]] && fail "cannot run: $*"
    echo "SKIP: deploy-check: $* (required only with CI=true)"; exit 0
}
[[ $(id -u) == 0 ]] || cannot "needs root for chroot and namespaces"

work=$(mktemp -d /var/tmp/cashier-batch-deploy.XXXXXX)
cleanup() {
    if findmnt -rn -o TARGET | grep -q "^$work"; then echo "deploy-check: leaving $work (still mounted)" >&2
    else rm -rf --one-file-system "$work"; fi
}
trap cleanup EXIT

# The commands, from the README.
awk '
    /^<!-- \.ci\/deploy-check\.sh runs the next block -->$/ { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside && cont { print; cont = /\\$/; next }
    inside && /^\$ / { print substr($0, 3); cont = /\\$/ }
' "$repo/README.md" >"$work/commands.sh"
[[ -s $work/commands.sh ]] || fail "README.md has no block after '<!-- .ci/deploy-check.sh runs the next block -->'"
echo "deploy-check: $(grep -c '' "$work/commands.sh") lines of commands from README.md, Deploy"

# Exit 2: it cannot be made here (it said why).
tarball=$("$repo/.ci/runtime-root.sh") || { [[ $? == 2 ]] && cannot "no debootstrap root (line above)"; fail ".ci/runtime-root.sh failed (lines above)"; }
root=$work/root
mkdir -p "$root"
tar -xpzf "$tarball" --numeric-owner -C "$root"

# The clone, with what the build machine made.
clone=$root/root/cashier-batch
mkdir -p "$clone/.build-release/dist"
git -C "$repo" ls-files -z | (cd "$repo" && tar --null -T - -cf -) | tar -xf - -C "$clone"
install -m 0755 "$bin" "$clone/.build-release/dist/cashier-batch"
[[ -s $(dirname "$bin")/cashier-batch.1 ]] && install -m 0644 "$(dirname "$bin")/cashier-batch.1" "$clone/.build-release/dist/"
cp "$work/commands.sh" "$root/tmp/deploy-commands.txt"
# One bash, set -e: each command (a line, with its continuation lines) printed as the README
# shows it, then run by eval in that same shell, so `cd` and `&` carry on to the next ones.
cat >"$root/tmp/deploy-run.sh" <<'RUNNER'
set -e
cmd=
while IFS= read -r -u 3 line; do
    cmd+=$line
    if [[ $line == *\\ ]]; then cmd+=$'\n'; continue; fi
    printf '$ %s\n' "$cmd"
    eval "$cmd"
    cmd=
done 3<"$1"
RUNNER

set +e
timeout 600 "$repo/.ci/in-root.sh" "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 /bin/bash /tmp/deploy-run.sh /tmp/deploy-commands.txt >"$work/deploy.log" 2>&1
rc=$?
set -e
sed 's/^/  | /' "$work/deploy.log"
[[ $rc == 0 ]] || fail "the walk-through stopped with exit $rc at its last command above"

# What it must have left.
grep -qx 'cashier-batch:x:10001:10001:cashier-batch nightly job:/var/lib/cashier-batch:/usr/sbin/nologin' "$root/etc/passwd" \
    || fail "no cashier-batch user with uid 10001 in the host's /etc/passwd"
key=$root/etc/cashier-batch/api-key
[[ $(stat -c '%a %u %g' "$key" 2>/dev/null) == "400 10001 10001" ]] || fail "the key file is not 0400 10001:10001: $(stat -c '%a %u %g' "$key" 2>&1)"
reports=$root/var/lib/cashier-batch/reports
python3 - "$reports/report.json" <<'EOF' || fail "the night's report.json is not a clean run of 41 rows (line above)"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["counts"]
if (r["verdict"]["exitCode"], c["read"], c["done"]) != (0, 41, 41):
    sys.exit("deploy-check: exit %s, %s read, %s done" % (r["verdict"]["exitCode"], c["read"], c["done"]))
EOF
for f in report.html report.json summary.md rejects.csv metrics.prom; do
    [[ $(stat -c '%a %u:%g' "$reports/$f" 2>/dev/null) == "600 10001:10001" ]] || fail "$f is not 0600 10001:10001: $(stat -c '%a %u:%g' "$reports/$f" 2>&1)"
done
echo "ok: the README's Deploy commands ran as written in a fresh Debian root: user 10001, key 0400, run exit 0 with 41 rows done, reports 0600 owned by 10001"
