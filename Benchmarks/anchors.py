#!/usr/bin/env python3
"""Python anchors for the validate benchmark. Prints the number of data rows read.

usage: anchors.py MODE FILE
  csv      csv.reader merely iterating the rows of a CSV file (header excluded)
  gzjson   gzip.open + json.loads per line of a JSON Lines .gz file
  json     json.loads per line of a plain JSON Lines file
"""
import csv
import gzip
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mode, path = sys.argv[1], sys.argv[2]
    n = 0
    if mode == "csv":
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                n += 1
        n -= 1  # header
    elif mode == "gzjson":
        loads = json.loads
        # text mode: json.loads on str is faster than on bytes (no encoding sniffing)
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                if line != "\n":
                    loads(line)
                    n += 1
    elif mode == "json":
        loads = json.loads
        with open(path, "r", encoding="utf-8") as f:
            for line in f:
                if line != "\n":
                    loads(line)
                    n += 1
    else:
        sys.exit("unknown mode %r" % mode)
    print(n)


if __name__ == "__main__":
    main()
