#!/usr/bin/env python3
"""The report in a real browser: Debian's headless Chromium renders report.html with the network
refused, and the rendered DOM (--dump-dom) must show what report.json says.

    .ci/report-dom-check.py REPORT_DIR      (report.html and report.json of one run)

- Network refused: every request goes to a proxy on 127.0.0.1 that logs the request line and
  closes the connection (nothing is ever answered), and Chromium's net log records every URL
  request with its initiator. A request the page made (initiator: the page's origin, "null" for
  file://) to anything but file: or data: fails the check, and so does a proxy line that no
  browser-internal request (initiator "not an origin": update checks and the like) explains.
- The DOM: the verdict sentence, the row counts (read, done, rejected cards) and the first
  break (its customer and field in a table row) of report.json must be in the rendered page.
- The check proves it can fail: a planted copy of the page without its Content-Security-Policy
  and with an external image must be caught fetching.
Exit 0 when all holds; otherwise one line "FAIL: …" and exit 1.
"""
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading


def fail(message):
    print(f"FAIL: report-dom-check: {message}", file=sys.stderr)
    sys.exit(1)


def browser():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    fail("chromium is not installed (apt-get install -y chromium)")


class RefusingProxy:
    """Accepts connections on 127.0.0.1, logs the first request line, closes without answering."""

    def __init__(self):
        self.lines = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                data = conn.recv(1024)
            except OSError:
                data = b""
            self.lines.append(data.split(b"\r\n")[0].decode("latin-1"))
            conn.close()


def render(page, work):
    """Runs Chromium on file://page; returns (dom, page-initiated URLs, unexplained proxy lines)."""
    proxy = RefusingProxy()
    netlog = os.path.join(work, "netlog.json")
    profile = tempfile.mkdtemp(dir=work)
    cmd = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={profile}", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-default-apps",
           f"--proxy-server=http://127.0.0.1:{proxy.port}", "--proxy-bypass-list=<-loopback>",
           f"--log-net-log={netlog}", "--dump-dom", "file://" + os.path.abspath(page)]
    try:
        run = subprocess.run(cmd, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        fail("chromium did not finish within 120 s")
    if run.returncode != 0:
        fail(f"chromium exited {run.returncode}: {run.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    dom = run.stdout.decode("utf-8", errors="replace")
    try:
        log = json.load(open(netlog))
    except (OSError, ValueError) as error:
        fail(f"chromium wrote no readable net log ({error})")
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    page_urls, internal_hosts = set(), set()
    for event in log["events"]:
        if types.get(event["type"]) != "URL_REQUEST_START_JOB":
            continue
        params = event.get("params", {})
        url, initiator = params.get("url", ""), params.get("initiator")
        if not url or url.startswith(("file:", "data:")):
            continue
        if initiator == "not an origin":
            internal_hosts.add(re.sub(r"^[a-z]+://([^/:]+).*$", r"\1", url))
        else:
            page_urls.add(url)
    proxy.sock.close()
    unexplained = [line for line in proxy.lines
                   if line and not any(host in line for host in internal_hosts)]
    return dom, sorted(page_urls), unexplained


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    report_dir = sys.argv[1]
    page = os.path.join(report_dir, "report.html")
    try:
        report = json.load(open(os.path.join(report_dir, "report.json")))
    except (OSError, ValueError) as error:
        fail(f"no readable report.json in {report_dir} ({error})")
    if not os.path.isfile(page):
        fail(f"no report.html in {report_dir}")
    work = tempfile.mkdtemp(prefix="report-dom-")
    try:
        dom, fetched, proxied = render(page, work)
        if fetched:
            fail(f"the page fetched {len(fetched)} URL(s) with the network refused: {fetched[:3]}")
        if proxied:
            fail(f"requests reached the refusing proxy that no browser-internal request explains: {proxied[:3]}")

        verdict = report["verdict"]["text"]
        text = html.unescape(re.sub(r"<[^>]+>", "", dom))
        if verdict not in text:
            fail(f"the rendered page does not show the verdict {verdict!r}")
        cards = {name: int(num) for name, num in
                 re.findall(r'<div class="card (\w+)"><div class="num">(\d+)</div>', dom)}
        for name in ("read", "done", "rejected"):
            want = report["counts"][name]
            if cards.get(name) != want:
                fail(f"the rendered page shows {name} = {cards.get(name)}, report.json says {want}")
        breaks = report.get("breaks") or []
        if not breaks:
            fail("report.json has no break to look for (the demo plants some)")
        first = breaks[0]
        rows = re.findall(r"<tr[^>]*>.*?</tr>", dom, flags=re.S)
        if not any(html.escape(first["customerId"], quote=False) in r and f">{first['field']}<" in r for r in rows):
            fail(f"no table row of the rendered page shows the break {first['customerId']} {first['field']}")
        print(f"ok: headless {subprocess.run([browser(), '--version'], capture_output=True, text=True).stdout.strip()} "
              f"rendered {page} with the network refused: verdict, read {cards['read']}, done {cards['done']}, "
              f"rejected {cards['rejected']} and the break {first['customerId']} {first['field']} in the DOM; nothing fetched")

        # The check can fail: the same page without its CSP and with an external image.
        planted = os.path.join(work, "planted.html")
        with open(page, encoding="utf-8") as source, open(planted, "w", encoding="utf-8") as out:
            body = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", source.read())
            out.write(body.replace("</main>", '<img src="http://fetch-probe.invalid/pixel.png"></main>'))
        _, fetched, proxied = render(planted, work)
        if not fetched or not any("fetch-probe.invalid" in line for line in proxied):
            fail(f"a planted external image was not caught (net log: {fetched}, proxy: {proxied}): the check cannot fail")
        print("ok: the check catches a planted fetch (a copy without CSP loading http://fetch-probe.invalid/pixel.png)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
