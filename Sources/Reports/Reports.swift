// Reports: html, md, json, csv, prom from the ledger (issue 5).
