#!/usr/bin/env python3
"""Format validate-bench.sh measurements as a markdown table with the target ratios.

usage: bench_report.py RESULTS_TSV ROWS MACHINE_INFO_FILE
RESULTS_TSV lines: key <TAB> label <TAB> best_seconds <TAB> peak_rss_kb   (seconds "-" = not measured)
"""
import os
import sys

RSS_LIMIT_MB = 64.0
RATIO_TARGET = 1.5


def main():
    path, rows, info_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    res = {}
    order = []
    with open(path) as f:
        for line in f:
            key, label, secs, rss = line.rstrip("\n").split("\t")
            res[key] = (label, None if secs == "-" else float(secs), None if rss == "-" else int(rss))
            order.append(key)

    def rate(key):
        s = res.get(key, (None, None, None))[1]
        return rows / s if s else None

    out = []
    out.append("## `cashier-batch validate` benchmark, %s rows" % format(rows, ","))
    out.append("")
    with open(info_path) as f:
        out += [l.rstrip("\n") for l in f]
    out.append("")
    out.append("| case | seconds | rows/s | peak RSS MB |")
    out.append("|---|---:|---:|---:|")
    for key in order:
        label, secs, rss = res[key]
        if secs is None:
            out.append("| %s | n/a | n/a | n/a |" % label)
        else:
            out.append("| %s | %.3f | %s | %.1f |" % (label, secs, format(int(round(rows / secs)), ","), rss / 1024.0))
    out.append("")
    runs = os.environ.get("RUNS", "3")
    out.append("Seconds: best of %s runs (wall clock); peak RSS: the largest max-RSS of the %s runs (`/usr/bin/time -f %%M`)." % (runs, runs))
    out.append("")
    out.append("| target | measured | target | verdict |")
    out.append("|---|---:|---:|---|")

    def ratio_line(name, num, den):
        a, b = rate(num), rate(den)
        if a is None or b is None:
            out.append("| %s | n/a | ≥ %.1f× | not measured |" % (name, RATIO_TARGET))
        else:
            r = a / b
            out.append("| %s | %.2f× | ≥ %.1f× | %s |" % (name, r, RATIO_TARGET, "PASS" if r >= RATIO_TARGET else "FAIL"))

    ratio_line("CSV: validate rows/s ÷ Python csv.reader rows/s", "validate_csv", "py_csv")
    ratio_line("JSONL.gz: validate rows/s ÷ Python gzip + json.loads rows/s", "validate_gz", "py_gzjson")
    for key, name in (("validate_csv", "CSV"), ("validate_jsonl", "JSONL"), ("validate_gz", "JSONL.gz")):
        rss = res.get(key, (None, None, None))[2]
        if rss is None or res[key][1] is None:
            out.append("| peak RSS, validate %s | n/a | < %d MB | not measured |" % (name, RSS_LIMIT_MB))
        else:
            mb = rss / 1024.0
            out.append("| peak RSS, validate %s | %.1f MB | < %d MB | %s |" % (name, mb, RSS_LIMIT_MB, "PASS" if mb < RSS_LIMIT_MB else "FAIL"))
    a, b = rate("validate_jsonl"), rate("py_json")
    if a and b:
        out.append("| (info) JSONL: validate rows/s ÷ Python json.loads rows/s | %.2f× | — | — |" % (a / b))
    print("\n".join(out))


if __name__ == "__main__":
    main()
