#!/usr/bin/env python3
"""Generate a deterministic benchmark batch for `cashier-batch validate`.

usage: gen_batch.py ROWS OUTDIR

Writes OUTDIR/batch.csv, OUTDIR/batch.jsonl and OUTDIR/batch.jsonl.gz (gzip -6 of
the JSONL, compressed by a gzip child process while the rows are written).
Every row is valid under the cashier-batch rules and (websiteId, customerId,
currency) is unique. The same ROWS always gives byte-identical files.
"""
import os
import random
import subprocess
import sys
import time

COLUMNS = [
    "websiteId", "customerId", "currency", "balance", "bonusBalance", "pendingPayoutTotal",
    "depositLimits.minimum", "depositLimits.maximum", "redirectUrl", "notificationUrl",
    "deposit.strategyId", "deposit.amounts", "deposit.customAmount.minimum",
    "deposit.customAmount.maximum", "deposit.customAmount.multipleOf",
    "deposit.amountLimits.minimum", "deposit.amountLimits.maximum", "deposit.redirectUrl",
    "deposit.notificationUrl", "deposit.expirationTime", "deposit.customPropertySetId",
]

# (websiteId, redirectUrl, notificationUrl)
SITES = [
    ("web_01J8ZK4Q7M2XR5T9VB3C6NDWEH", "https://casino.royalspin.example/cashier/return?tx={id}&r={result}",
     "https://hooks.royalspin.example/rebilly/cashier?tx={id}"),
    ("web_01J8ZK9T3F6HQ1W8YD2N5PRGAS", "https://www.northbet.example/wallet/done/{id}?status={result}",
     "https://api.northbet.example/v2/webhooks/deposits"),
    ("web_01J90AC5R8K3M7P1ZS4V6XGTBN", "https://sakura-slots.example.jp/cashier/complete?id={id}&result={result}",
     "https://sakura-slots.example.jp/api/notify/{id}"),
    ("web_01J91BD7S2N4Q8T6WA9C3YHMKF", "https://gulfgames.example.bh/en/cashier/return?ref={id}",
     "https://gulfgames.example.bh/hooks/rebilly/{id}"),
    ("web_01J93EF2T9P5R1V7XB4D8ZJNQC", "https://maplewin.example.ca/account/cashier?tx={id}&outcome={result}",
     "https://maplewin.example.ca/notify/cashier"),
    ("web_01J94FG3V1Q6S2W8YC5E9AKPRD", "https://play.luckyfox.example/cashier/back?t={id}&s={result}",
     "https://play.luckyfox.example/api/v1/rebilly-events"),
]
# a quoted CSV field: notificationUrl with a comma in its query string (about 2% of rows)
COMMA_URL = "https://hooks.example.net/cashier?events=created,completed&tx={id}"

# currency -> (weight, exponent, max balance major, depositLimits, amounts, customAmount (min, max, multipleOf))
CURRENCIES = [
    ("USD", 40, 2, 20000, ("10", "5000"), ["20", "50", "100"], ("10", "1000", "10")),
    ("EUR", 25, 2, 15000, ("10.00", "3000.00"), ["15", "30", "60", "120"], ("15.00", "1515.00", "7.50")),
    ("GBP", 15, 2, 12000, ("5", "2000"), ["10", "25", "50"], ("10", "500", "5")),
    ("JPY", 12, 0, 2000000, ("500", "500000"), ["1000", "3000", "5000"], ("1000", "100000", "1000")),
    ("BHD", 8, 3, 8000, ("1.000", "2000.000"), ["5", "10", "25"], ("5.000", "500.000", "0.500")),
]
CROCK = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def fmt(units, exp):
    if exp == 0:
        return str(units)
    q, r = divmod(units, 10 ** exp)
    return "%d.%0*d" % (q, exp, r)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_batch.py ROWS OUTDIR")
    rows = int(sys.argv[1])
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    rng = random.Random(20261122)
    t0 = time.time()

    cur_table = []
    for code, weight, exp, maxbal, lim, amts, ca in CURRENCIES:
        cur_table += [(code, exp, maxbal * 10 ** exp, lim, amts, ca)] * weight
    ncur = len(cur_table)
    # a pool of random ULID-like tails; uniqueness comes from the row number in front
    tails = ["".join(rng.choice(CROCK) for _ in range(12)) for _ in range(4096)]
    strategies = ["dep_str_01J7RQ3M8WZ5K2N9TB4XC6VHDA", "dep_str_01J7RQ6P2YA8D3F5GH7JK9MNBC"]

    csv_path = os.path.join(outdir, "batch.csv")
    jsonl_path = os.path.join(outdir, "batch.jsonl")
    gz_path = os.path.join(outdir, "batch.jsonl.gz")
    fcsv = open(csv_path + ".tmp", "w", encoding="utf-8", newline="")
    fjs = open(jsonl_path + ".tmp", "w", encoding="utf-8", newline="")
    fgz = open(gz_path + ".tmp", "wb")
    gz = subprocess.Popen(["gzip", "-6", "-n", "-c"], stdin=subprocess.PIPE, stdout=fgz)

    fcsv.write(",".join(COLUMNS) + "\n")
    rand = rng.random
    randrange = rng.randrange
    csv_buf, js_buf = [], []
    for i in range(rows):
        code, exp, maxunits, lim, amts, ca = cur_table[randrange(ncur)]
        site, ret, note = SITES[i % len(SITES)]
        cid = "cus_%08d%s" % (i, tails[i & 4095])
        bal = fmt(randrange(maxunits), exp)
        r = rand()
        bonus = fmt(randrange(maxunits // 40), exp) if r < 0.55 else ("0" if r < 0.8 else "")
        r = rand()
        pend = fmt(randrange(maxunits // 10), exp) if r < 0.3 else ("0" if r < 0.7 else "")
        if i % 50 == 7:
            note = COMMA_URL
        has_ca = i % 4 != 3
        strategy = strategies[i & 1] if i % 10 == 0 else ""
        expiry = "2026-11-%02dT%02d:%02d:00Z" % (22 + i % 7, i % 24, (i * 15) % 60) if i % 20 == 5 else ""

        csv_buf.append("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,,,,,%s,\n" % (
            site, cid, code, bal, bonus, pend, lim[0], lim[1], ret,
            '"%s"' % note if note is COMMA_URL else note,
            strategy, ";".join(amts),
            ca[0] if has_ca else "", ca[1] if has_ca else "", ca[2] if has_ca else "",
            expiry))

        # JSON Lines: money as strings or numbers, alternating by row
        if i & 1:
            money = '"balance":"%s"' % bal
            if bonus:
                money += ',"bonusBalance":"%s"' % bonus
            if pend:
                money += ',"pendingPayoutTotal":"%s"' % pend
            lims = '"depositLimits":{"minimum":"%s","maximum":"%s"}' % lim
            amounts = '["' + '","'.join(amts) + '"]'
        else:
            money = '"balance":%s' % bal
            if bonus:
                money += ',"bonusBalance":%s' % bonus
            if pend:
                money += ',"pendingPayoutTotal":%s' % pend
            lims = '"depositLimits":{"minimum":%s,"maximum":%s}' % lim
            amounts = "[" + ",".join(amts) + "]"
        dep = '"amounts":' + amounts
        if has_ca:
            dep += ',"customAmount":{"minimum":"%s","maximum":"%s","multipleOf":"%s"}' % ca
        if strategy:
            dep = '"strategyId":"%s",' % strategy + dep
        if expiry:
            dep += ',"expirationTime":"%s"' % expiry
        js_buf.append('{"websiteId":"%s","customerId":"%s","currency":"%s",%s,%s,"redirectUrl":"%s","notificationUrl":"%s","deposit":{%s}}\n' % (
            site, cid, code, money, lims, ret, note, dep))

        if len(csv_buf) == 20000:
            fcsv.write("".join(csv_buf))
            chunk = "".join(js_buf)
            fjs.write(chunk)
            gz.stdin.write(chunk.encode("utf-8"))
            csv_buf, js_buf = [], []
    fcsv.write("".join(csv_buf))
    chunk = "".join(js_buf)
    fjs.write(chunk)
    gz.stdin.write(chunk.encode("utf-8"))
    gz.stdin.close()
    if gz.wait() != 0:
        sys.exit("gzip failed")
    fcsv.close()
    fjs.close()
    fgz.close()
    for p in (csv_path, jsonl_path, gz_path):
        os.replace(p + ".tmp", p)
    sizes = ", ".join("%s %.1f MB" % (os.path.basename(p), os.path.getsize(p) / 1e6) for p in (csv_path, jsonl_path, gz_path))
    print("generated %d rows in %.1f s: %s" % (rows, time.time() - t0, sizes), file=sys.stderr)


if __name__ == "__main__":
    main()
