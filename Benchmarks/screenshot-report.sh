#!/usr/bin/env bash
# Screenshot a report.html in headless Chromium (Debian package `chromium`), to look at
# what finance sees in the morning. The page must render with the network off: it is
# opened from file:// with every network request refused by the proxy setting.
#
#   Benchmarks/screenshot-report.sh reports/report.html report.png [WIDTH] [HEIGHT]
#
# WIDTH defaults to 1280, HEIGHT to 3600 (headless Chromium captures the window, not the
# whole page: make HEIGHT large enough; the blank bottom is harmless).
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH] [HEIGHT]" >&2
    exit 64
fi
report=$1
out=$2
width=${3:-1280}
height=${4:-3600}
[[ -f "$report" ]] || { echo "$0: no such file: $report" >&2; exit 66; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[[ -n "$browser" ]] || { echo "$0: chromium not found (apt-get install -y chromium)" >&2; exit 69; }
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: needed when running as root (CI containers); the page runs no script anyway.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
    --proxy-server="127.0.0.1:9" --proxy-bypass-list="<-loopback>" \
    --window-size="${width},${height}" --screenshot="$out" "file://$abs" >/dev/null 2>&1
[[ -s "$out" ]] || { echo "$0: no screenshot written" >&2; exit 70; }
echo "$out"
