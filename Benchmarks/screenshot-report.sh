#!/usr/bin/env bash
# Screenshot a report.html in headless Chromium (Debian package `chromium`), to look at
# what finance sees in the morning. The page must render with the network off: it is
# opened from file:// with every network request refused by the proxy setting.
#
#   Benchmarks/screenshot-report.sh reports/report.html report.png [WIDTH] [HEIGHT]
#
# WIDTH defaults to 1280. HEIGHT defaults to the page's own height at that width: headless
# Chromium captures the window, not the whole page, so the page is first measured (a copy,
# without its Content-Security-Policy and with one script that writes
# document.documentElement.scrollHeight into the title, read back with --dump-dom), then shot
# in a window exactly that tall (at most 32,000 px).
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTH] [HEIGHT]" >&2
    exit 64
fi
report=$1
out=$2
width=${3:-1280}
height=${4:-}
[[ -f "$report" ]] || { echo "$0: no such file: $report" >&2; exit 66; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[[ -n "$browser" ]] || { echo "$0: chromium not found (apt-get install -y chromium)" >&2; exit 69; }
abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: needed when running as root (CI containers); the page runs no script anyway.
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --user-data-dir="$profile"
       --disable-background-networking --proxy-server="127.0.0.1:9" --proxy-bypass-list="<-loopback>")
if [[ -z $height ]]; then
    # The measuring copy sits beside the report, so relative paths (none today) would resolve alike.
    probe=$(mktemp "$(dirname "$abs")/.measure.XXXXXX.html")
    trap 'rm -rf "$profile" "$probe"' EXIT
    sed -e 's#<meta http-equiv="Content-Security-Policy"[^>]*>##' \
        -e 's#</body>#<script>document.title = "height=" + Math.ceil(document.documentElement.scrollHeight)</script></body>#' \
        "$abs" >"$probe"
    height=$("$browser" "${flags[@]}" --window-size="${width},1000" --dump-dom "file://$probe" 2>/dev/null \
        | sed -n 's#.*<title>height=\([0-9]*\)</title>.*#\1#p' | head -n 1)
    [[ $height =~ ^[0-9]+$ && $height -gt 0 ]] || { echo "$0: could not measure the page's height" >&2; exit 70; }
    (( height > 32000 )) && height=32000
fi
"$browser" "${flags[@]}" --window-size="${width},${height}" --screenshot="$out" "file://$abs" >/dev/null 2>&1
[[ -s "$out" ]] || { echo "$0: no screenshot written" >&2; exit 70; }
echo "$out (${width}x${height})"
