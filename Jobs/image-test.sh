#!/usr/bin/env bash
# Builds the container image from Jobs/Containerfile with no network and no registry, and runs
# it offline as uid 10001, as an operator would:
#
#   Jobs/image-test.sh [--keep]
#
# 1. podman (and runc) from apt when missing.
# 2. The base: the debootstrap minbase root of .ci/runtime-root.sh (bookworm with only
#    Jobs/runtime-packages.txt, cached), `podman import`ed as localhost/cashier-batch-base.
# 3. The binary: .build-release/dist/cashier-batch (Jobs/build-release.sh runs first when it is
#    missing), taken from the context with BINARY=context; COMMIT is this checkout's.
# 4. `podman build --pull=never --network none`, then, every container with --network none
#    and --user 10001:10001:
#    - `--version` prints what the binary outside the image prints;
#    - `demo` writes its reports to a named volume on /var/lib/cashier-batch (the image's ledger
#      volume): report.json's verdict, counts and build, owned by 10001;
#    - `sandbox` in one container and `run` in a second one that joins its private network
#      namespace (loopback only): every row of SampleData/customers.csv done, exit 0;
#    - the image's size, printed.
# Any failure ends it with one line "FAIL: image-test: why" and exit 1. --keep leaves the
# podman store (under /var/tmp) for a look; by default it is removed.
#
# Needs root (podman's store, apt). Without it the test says why and is skipped, except with
# CI=true, where it fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
keep=false
while [[ $# -gt 0 ]]; do
    case $1 in
        --keep) keep=true; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "$0: unknown argument: $1" >&2; exit 64 ;;
    esac
done
fail() { echo "FAIL: image-test: $*" >&2; exit 1; }
cannot() {
    [[ ${CI:-} == true ]] && fail "cannot run: $*"
    echo "SKIP: image-test: $* (required only with CI=true)"; exit 0
}
[[ $(id -u) == 0 ]] || cannot "needs root (podman's store, apt-get)"

# --- 1. podman -------------------------------------------------------------------------------
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    echo "image-test: installing podman and runc (apt)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman runc; } \
        >/tmp/cashier-batch-image-apt.log 2>&1 || { tail -n 20 /tmp/cashier-batch-image-apt.log >&2; fail "apt-get install podman runc failed (log above)"; }
fi

work=$(mktemp -d /var/tmp/cashier-batch-image.XXXXXX)
# The flags this machine needs, in this one place:
#   --runtime runc             crun (podman's preferred runtime) refuses this host's hybrid cgroup
#                              hierarchy (cgroup v1 controllers); runc runs on it.
#   --cgroup-manager cgroupfs  no systemd runs as PID 1 here to create the containers' cgroups.
#   --storage-driver vfs       plain copies of each layer: slower and larger on disk than overlay,
#                              but it needs no overlay mounts from the kernel, so it works in any
#                              sandbox CI may run in (overlay also worked on this machine).
#   --root, --runroot          a store of this test's own, removed at the end: it never meets
#                              another podman store of the machine (one with another driver
#                              would refuse to open).
#   --ulimit nofile, nproc     podman asks for limits above this machine's hard limits by default,
#                              and runc then fails with "error setting rlimits"; these stay under
#                              them (nproc 4096: runc refused a container at the hard limit).
podman=(podman --root "$work/store" --runroot "$work/run" --runtime runc --cgroup-manager cgroupfs --storage-driver vfs)
nofile=$(ulimit -Hn); [[ $nofile == unlimited || $nofile -gt 16384 ]] && nofile=16384
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)
run=("${podman[@]}" run --rm --network none --user 10001:10001 "${limits[@]}")
cleanup() {
    "${podman[@]}" rm -f -t 0 cb-image-test-sandbox >/dev/null 2>&1 || true
    if $keep; then echo "image-test: kept the podman store in $work (podman --root $work/store --runroot $work/run …)"
    else rm -rf --one-file-system "$work"; fi
}
trap cleanup EXIT
echo "image-test: $("${podman[@]}" --version), runtime $(runc --version | head -n 1)"

# --- 2. the base -----------------------------------------------------------------------------
# Exit 2: it cannot be made here (it said why).
tarball=$("$repo/.ci/runtime-root.sh") || { [[ $? == 2 ]] && cannot "no debootstrap root (line above)"; fail ".ci/runtime-root.sh failed (lines above)"; }
base=localhost/cashier-batch-base:bookworm-minbase
t0=$SECONDS
"${podman[@]}" import --quiet "$tarball" "$base" >/dev/null || fail "podman import $tarball failed"
echo "image-test: base $base imported from $tarball ($((SECONDS - t0)) s)"

# --- 3. the binary ---------------------------------------------------------------------------
bin=$repo/.build-release/dist/cashier-batch
if [[ ! -x $bin ]]; then
    echo "image-test: no $bin: Jobs/build-release.sh first"
    "$repo/Jobs/build-release.sh" >/dev/null || fail "Jobs/build-release.sh failed"
fi
version=$("$bin" --version) || fail "$bin --version failed"
commit=$(sed -n 's/.*(commit \([^,]*\),.*/\1/p' <<<"$version")
[[ -n $commit ]] || fail "'$bin --version' names no commit: $version"

# --- 4. build --------------------------------------------------------------------------------
image=localhost/cashier-batch:image-test
t0=$SECONDS
"${podman[@]}" build --pull=never --network none --build-arg "RUNTIME_BASE=$base" --build-arg BINARY=context \
    --build-arg "COMMIT=$commit" -f "$repo/Jobs/Containerfile" -t "$image" "$repo" >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; fail "podman build failed (last lines above)"; }
echo "image-test: built $image offline ($((SECONDS - t0)) s)"
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
user=$("${podman[@]}" image inspect --format '{{.Config.User}}' "$image")
[[ $user == 10001:10001 ]] || fail "the image runs as '$user', not 10001:10001"

# --version, in the image
got=$("${run[@]}" "$image" --version 2>&1) || fail "--version in the image failed: $got"
[[ $got == "$version" ]] || fail "--version in the image printed '$got', the binary outside it '$version'"
echo "ok: --version in the image: $got"

# demo, its reports on the ledger volume
volume=cb-image-test-ledger
"${podman[@]}" volume create "$volume" >/dev/null
set +e
"${run[@]}" -v "$volume:/var/lib/cashier-batch" "$image" demo --out /var/lib/cashier-batch/demo \
    --sample-data /usr/share/cashier-batch/SampleData >"$work/demo.log" 2>&1
rc=$?
set -e
[[ $rc == 0 ]] || { cat "$work/demo.log" >&2; fail "demo in the image exited $rc (output above)"; }
vol=$("${podman[@]}" volume inspect --format '{{.Mountpoint}}' "$volume")
check_report() {   # check_report DIR EXIT DONE REJECTED: report.json's verdict, counts and build
    python3 - "$1/report.json" "$2" "$3" "$4" "$version" <<'EOF' || fail "$1/report.json is not what was expected (line above)"
import json, sys
path, exit_code, done, rejected, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = json.load(open(path))
build = r.get("build", {})
line = "cashier-batch %s (commit %s, Swift %s)" % (build.get("release"), build.get("commit"), build.get("swift"))
counts = r["counts"]
problems = []
if r["verdict"]["exitCode"] != exit_code: problems.append("verdict exit %s, expected %d" % (r["verdict"]["exitCode"], exit_code))
if counts["done"] != done or counts["rejected"] != rejected:
    problems.append("done %s, rejected %s; expected %d and %d" % (counts["done"], counts["rejected"], done, rejected))
if line != version: problems.append("build says '%s', the binary '%s'" % (line, version))
if problems: sys.exit("image-test: " + path + ": " + "; ".join(problems))
EOF
    local owner
    owner=$(stat -c %u:%g "$1/report.json")
    [[ $owner == 10001:10001 ]] || fail "$1/report.json is owned by $owner, not 10001:10001"
}
check_report "$vol/demo" 4 88 24
echo "ok: demo in the image, as uid 10001, offline: reports on the volume $volume ($(ls "$vol/demo" | tr '\n' ' '))"

# run, against a sandbox in a second container, in the sandbox container's private network namespace
"${podman[@]}" run -d --name cb-image-test-sandbox --network none --user 10001:10001 "${limits[@]}" "$image" sandbox --port 18089 >/dev/null \
    || fail "the sandbox container did not start"
for _ in $(seq 1 100); do
    "${podman[@]}" logs cb-image-test-sandbox 2>&1 | grep -q '^Sandbox listening on http://127.0.0.1:18089' && break
    [[ $("${podman[@]}" inspect --format '{{.State.Running}}' cb-image-test-sandbox) == true ]] \
        || { "${podman[@]}" logs cb-image-test-sandbox >&2; fail "the sandbox container stopped (its output above)"; }
    sleep 0.1
done
"${podman[@]}" logs cb-image-test-sandbox 2>&1 | grep -q '^Sandbox listening' || fail "the sandbox did not say it listens within 10 s"
set +e
"${podman[@]}" run --rm --network container:cb-image-test-sandbox --user 10001:10001 "${limits[@]}" \
    -v "$volume:/var/lib/cashier-batch" -e REBILLY_API_KEY=sandbox-secret-key "$image" \
    run --api-url http://127.0.0.1:18089 --db /var/lib/cashier-batch/ledger.sqlite --report-dir /var/lib/cashier-batch/reports \
    --log-format json /usr/share/cashier-batch/SampleData/customers.csv >"$work/run.log" 2>&1
rc=$?
set -e
[[ $rc == 0 ]] || { cat "$work/run.log" >&2; fail "run in the image against the sandbox exited $rc (output above)"; }
check_report "$vol/reports" 0 41 0
grep -q "\"message\":\"cashier-batch\",\"release\"" <(head -n 1 "$work/run.log") || fail "run's first log line does not name the build: $(head -n 1 "$work/run.log")"
echo "ok: run in the image against the sandbox in a second container (network namespace of its own, loopback only): exit 0, 41 rows done"
"${podman[@]}" rm -f -t 0 cb-image-test-sandbox >/dev/null

echo "image size: $size bytes ($(( (size + 500000) / 1000000 )) MB), podman image inspect $image"
echo "image-test: ok"
