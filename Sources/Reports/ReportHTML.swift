import CashierModel
import Foundation
import Ledger

/// `report.html`: one self-contained page (inline CSS and SVG; no script, font,
/// image or stylesheet is fetched), readable offline and as a mail attachment.
///
/// Every value that came from input or the API (paths, ids, messages, details)
/// is written through ``htmlEscape(_:)``: a customerId of `<script>…` shows as text.
public enum ReportHTML {
    /// Renders the page.
    public static func render(_ data: ReportData) -> String {
        let e = htmlEscape
        let verdict = data.verdict
        let run = data.run
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>cashier-batch \(data.shards.isEmpty ? "run \(run.id)" : "night of \(data.shards.count) shards") — \(e(verdict.level))</title>
            <style>\(css)</style></head><body>
            <header class="verdict \(e(verdict.level))"><div class="big">\(e(verdictWord(verdict.level)))</div>
            <div><h1>cashier-batch · \(data.shards.isEmpty ? "run \(run.id)" : "\(data.shards.count) shards merged") <span class="muted">(\(e(run.command)))</span></h1><p>\(e(verdict.text))</p></div></header>
            <main>
            """
        h += attention(data)

        // Run facts.
        h += "<section><h2>Run</h2><table class=\"kv\">"
        h += row(["Status", e(run.status.rawValue)]) + row(["Exit code", Self.exitCode(run: run.exitCode, verdict: data.verdict.exitCode)])
        h += row(["Started (UTC)", e(Format.iso(run.startedAt))]) + row(["Finished (UTC)", run.finishedAt.map { e(Format.iso($0)) } ?? "–"])
        h += row(["Duration", e(Format.duration(run.durationSeconds))])
        if let forecast = data.forecast { h += row(["Forecast", e(forecast.line(data))]) }
        h += "</table>"
        if !data.shards.isEmpty {
            h += "<h3>Shards</h3><table class=shards><thead><tr><th>Shard</th><th>Ledger</th><th class=n>Run</th><th>Status</th><th class=n>Exit code</th><th>Started (UTC)</th><th>Finished (UTC)</th><th class=n>Read</th><th class=n>Done</th><th class=n>Rejected</th><th class=n>Failed</th><th class=n>Open breaks</th><th>Verdict</th></tr></thead><tbody>"
            for shard in data.shards {
                let c = shard.counts
                h += "<tr><td>\(e(shard.label))</td><td class=mono>\(e(shard.ledgerPath))</td><td class=n>\(shard.run.id)</td><td>\(e(shard.run.status.rawValue))</td>"
                h += "<td class=n>\(shard.run.exitCode.map { "\($0)" } ?? "–")</td><td>\(e(Format.iso(shard.run.startedAt)))</td><td>\(shard.run.finishedAt.map { e(Format.iso($0)) } ?? "–")</td>"
                h += "<td class=n>\(c.read)</td><td class=n>\(c.done)</td><td class=n>\(c.rejected)</td><td class=n>\(c.failed)</td><td class=n>\(shard.openBreaks)</td>"
                h += "<td class=\"\(e(shard.verdict.level))\">\(e(shard.verdict.level))</td></tr>"
            }
            h += "</tbody></table>"
        }
        let sharded = data.batches.contains { $0.shard != nil }
        if !data.batches.isEmpty {
            h += "<table><thead><tr>\(sharded ? "<th>Shard</th>" : "")<th>Batch</th><th>SHA-256</th><th>Format</th><th>Control</th><th class=n>Read</th><th class=n>Done</th><th class=n>Skipped</th><th class=n>Rejected</th><th class=n>Failed</th><th class=n>In doubt</th><th class=n>Needs review</th><th class=n>Unfinished</th><th>Identity</th></tr></thead><tbody>"
            for b in data.batches {
                let c = b.counts
                h += "<tr>\(sharded ? "<td>\(e(b.shard ?? "–"))</td>" : "")<td class=mono>\(e(b.path))</td><td class=mono title=\"\(e(b.sha256))\">\(e(String(b.sha256.prefix(12))))…</td>"
                h += "<td>\(e(b.format))\(b.gzip ? " + gzip" : "")</td><td>\(e(b.controlVerdict.rawValue))</td>"
                h += "<td class=n>\(c.read)</td><td class=n>\(c.done)</td><td class=n>\(c.skipped)</td><td class=n>\(c.rejected)</td><td class=n>\(c.failed)</td><td class=n>\(c.inDoubt)</td><td class=n>\(c.needsReview)</td><td class=n>\(c.unfinished)</td>"
                h += c.closes ? "<td class=ok>holds</td>" : "<td class=bad>does not close</td>"
                h += "</tr>"
            }
            h += "</tbody></table>"
        } else {
            h += "<p class=muted>No batch was processed by this run.</p>"
        }
        h += "</section>"

        // Counts.
        h += "<section><h2>Rows</h2><p class=muted>Their states now (\(e(Format.iso(data.generatedAt)))): a later retry of the same batches changes them.</p><div class=cards>"
        let previous = data.previous?.counts
        let cards: [(String, Int, Int?)] = [("read", data.counts.read, previous?.read)]
            + data.counts.parts.enumerated().map { i, p in (p.name, p.value, previous.map { $0.parts[i].value }) }
        for (name, value, before) in cards {
            var delta = ""
            if let before, value != before { delta = "<div class=delta>\(e(Format.signed(value - before))) vs run \(data.previous!.run.id)</div>" }
            h += "<div class=\"card \(name)\"><div class=num>\(value)</div><div class=lbl>\(e(label(name)))</div>\(delta)</div>"
        }
        if data.counts.cashierKnown > 0 {
            h += "<div class=\"card cashierKnown\" title=\"recorded on an earlier night: no POST /cashiers\"><div class=num>\(data.counts.cashierKnown)</div><div class=lbl>cashier known</div></div>"
        }
        h += "</div></section>"

        // Charts.
        let outcomes = data.counts.parts.enumerated().map { i, p in
            SVGChart.Bar(label: label(p.name), value: p.value, color: outcomeColor(p.name))
        }
        h += "<section><h2>Charts</h2><div class=charts>"
        h += "<figure><figcaption>Outcomes</figcaption>\(SVGChart.horizontalBars(outcomes, title: "rows by outcome"))</figure>"
        h += "<figure><figcaption>Throughput over time <span class=muted>(green: 2xx, orange: other)</span></figcaption>\(SVGChart.throughput(data.throughput))</figure>"
        h += "<figure><figcaption>Open breaks by currency</figcaption>\(SVGChart.breaksByCurrency(data.breaks))</figure>"
        h += "</div><div class=charts>"
        for op in data.requests {
            h += "<figure><figcaption>Latency · \(e(op.operation.rawValue)) <span class=muted>p50 \(ms(op.p50)) · p95 \(ms(op.p95)) · max \(ms(op.max))</span></figcaption>\(SVGChart.latency(op))</figure>"
        }
        h += "</div></section>"

        // Requests.
        h += "<section><h2>API requests</h2>"
        if data.requests.isEmpty {
            h += "<p class=muted>No API call was recorded for this run.</p>"
        } else {
            h += "<table><thead><tr><th>Operation</th><th class=n>Sent</th><th>By status</th><th class=n>Retries</th><th class=n>429s</th><th class=n>p50 ms</th><th class=n>p95 ms</th><th class=n>max ms</th></tr></thead><tbody>"
            for op in data.requests {
                let statuses = op.byStatus.map { "\(e($0.status)): \($0.count)" }.joined(separator: ", ")
                h += "<tr><td class=mono>\(e(op.operation.rawValue))</td><td class=n>\(op.sent)</td><td>\(statuses)</td><td class=n>\(op.retries)</td><td class=n>\(op.tooManyRequests)</td><td class=n>\(ms(op.p50))</td><td class=n>\(ms(op.p95))</td><td class=n>\(ms(op.max))</td></tr>"
            }
            h += "</tbody></table>"
        }
        h += "</section>"

        // Totals.
        h += "<section><h2>Totals per website and currency</h2>"
        if data.totals.isEmpty {
            h += "<p class=muted>No valid row.</p>"
        } else {
            if !data.reconciled { h += "<p class=muted>Not reconciled: Rebilly's figures, net and gross are unknown for this run.</p>" }
            h += "<table><thead><tr><th>Website</th><th>Currency</th><th>Figure</th><th class=n>Rows</th><th class=n>Input</th><th class=n>Sent</th><th class=n>Rebilly</th><th class=n>Net difference</th><th class=n>Gross difference</th></tr></thead><tbody>"
            for t in data.totals {
                for figure in Figure.allCases {
                    let f = t[figure]
                    let off = (f.grossDifferenceMinor ?? 0) != 0
                    h += "<tr\(off ? " class=off" : "")><td class=mono>\(e(t.websiteID))</td><td>\(e(t.currency))</td><td>\(e(figure.rawValue))</td><td class=n>\(t.inputRows)</td>"
                    h += "<td class=\"n mono\">\(e(f.input))</td><td class=\"n mono\">\(e(f.sent))</td>"
                    for v in [f.rebilly, f.netDifference, f.grossDifference] { h += "<td class=\"n mono\">\(v.map(e) ?? "–")</td>" }
                    h += "</tr>"
                }
            }
            h += "</tbody></table>"
        }
        h += "</section>"

        // Breaks.
        h += "<section><h2>Reconciliation breaks</h2>"
        if let at = data.reconciledAt {
            h += data.shards.isEmpty ? "<p class=muted>As recorded for run \(data.run.id) on \(e(Format.iso(at))).</p>"
                : "<p class=muted>As recorded for each shard's run (" + data.shards.map { "\(e($0.label)): run \($0.run.id)" }.joined(separator: ", ")
                    + "), the latest on \(e(Format.iso(at))).</p>"
        }
        for note in data.reconciliationNotes { h += "<p>\(e(note))</p>" }
        if !data.unread.isEmpty {
            h += "<h3>Not read back: neither matched nor broken</h3><table><thead><tr><th>Website</th><th>Customer</th><th>Currency</th><th>Cashier</th><th>Why</th></tr></thead><tbody>"
            for u in data.unread {
                h += "<tr class=off><td class=mono>\(e(u.websiteID))</td><td class=mono>\(e(u.customerID))</td><td>\(e(u.currency))</td><td class=mono>\(e(u.cashierID ?? "–"))</td><td>\(e(u.reason))</td></tr>"
            }
            h += "</tbody></table>"
        }
        if data.breaks.isEmpty {
            h += "<p class=muted>\(data.reconciled ? "No break." : "No break recorded for this run.")</p>"
        } else {
            let open = data.breaks.needingAttention, accepted = data.breaks.accepted
            h += "<p>\(open.count) open drift break\(open.count == 1 ? "" : "s") (listed under “Needs a person” above), \(accepted.count) accepted.</p>"
            let resolved = data.breaks.filter { $0.lifecycle == .resolved }
            if !resolved.isEmpty {
                h += "<h3>Resolved by this reconciliation (\(resolved.count))</h3>" + breakTable(resolved, data)
            }
        }
        let sums = data.openingSums
        if !sums.isEmpty {
            let count = sums.reduce(0) { $0 + $1.differences }, cashiers = sums.reduce(0) { $0 + $1.cashiers }
            h += "<h3>Opening differences (\(count))</h3><p class=muted>On \(cashiers) cashier\(cashiers == 1 ? "" : "s") created this night: Rebilly holds no history for them yet, so their figures cannot agree. Never a reason for exit 4. Summed per website and currency; each cashier's figures are in the ledger.</p>"
            h += "<details><summary>Per website and currency (\(sums.count))</summary><table><thead><tr><th>Website</th><th>Currency</th><th class=n>Cashiers</th><th class=n>Differences</th>"
                + Figure.allCases.map { "<th class=n>Σ \(e($0.rawValue))</th>" }.joined() + "</tr></thead><tbody>"
            for g in sums {
                h += "<tr><td class=mono>\(e(g.websiteID))</td><td>\(e(g.currency))</td><td class=n>\(g.cashiers)</td><td class=n>\(g.differences)</td>"
                    + Figure.allCases.map { "<td class=\"n mono\">\(e(Format.signedMoney(g.sums[Figure.allCases.firstIndex(of: $0) ?? 0], exponent: g.exponent)))</td>" }.joined() + "</tr>"
            }
            h += "</tbody></table></details>"
            let listed = data.breaks.openOpening
            if !listed.isEmpty {
                h += "<details><summary>Opening differences recorded one by one (\(listed.count))</summary>" + breakTable(listed.sorted(by: Break.order), data) + "</details>"
            }
        }
        h += "</section>"

        // Rows a person must decide on.
        if !data.reviews.isEmpty {
            h += "<section><h2>Needs review (\(data.reviews.count))</h2><p>The job cannot tell these rows' deposit requests from another client's: "
            h += "it neither adopts one nor sends again. Close each with <code>cashier-batch resolve --run \(data.run.id) --row ROW --adopt ID</code> or <code>--resend</code>.</p>"
            h += "<table><thead><tr><th class=n>Row</th><th>Batch</th><th class=n>Line</th><th>Customer</th><th>Why</th></tr></thead><tbody>"
            for r in data.reviews.prefix(50) {
                h += "<tr><td class=n>\(r.rowID)</td><td class=mono>\(e(r.batchPath))</td><td class=n>\(r.line)</td><td class=mono>\(e(r.customerID ?? ""))</td><td>\(e(r.reason))</td></tr>"
            }
            h += "</tbody></table>"
            if data.reviews.count > 50 { h += "<p class=muted>\(data.reviews.count - 50) more in report.json.</p>" }
            h += "</section>"
        }

        // Reasons.
        h += "<section><h2>Top rejection and failure reasons</h2>"
        if data.reasons.isEmpty {
            h += "<p class=muted>No row was rejected or failed.</p>"
        } else {
            h += "<table><thead><tr><th>State</th><th>Field</th><th>Reason</th><th class=n>Rows</th><th>Examples</th></tr></thead><tbody>"
            for group in data.reasons.prefix(15) {
                let examples = group.examples.map { ex in
                    "<div class=ex><span class=mono>\(e(ex.batchPath)):\(ex.line)</span> <span class=mono>\(e(ex.customerID ?? "(no customerId)"))</span> — \(e(ex.message))</div>"
                }.joined()
                // Grouped by rule; shown with a real message of the group, not its masked pattern.
                let reason = group.examples.first?.message ?? group.pattern
                h += "<tr><td>\(e(group.state.rawValue))</td><td class=mono>\(e(group.field))</td><td>\(e(reason))</td><td class=n>\(group.count)</td><td>\(examples)</td></tr>"
            }
            h += "</tbody></table>"
            if data.reasons.count > 15 { h += "<p class=muted>\(data.reasons.count - 15) more reasons in report.json; every row in rejects.csv.</p>" }
        }
        h += "</section>"

        // Previous run.
        h += "<section><h2>Compared with the previous run</h2>"
        if let p = data.previous {
            h += "<p>Run \(p.run.id) (\(e(p.run.command)), \(e(Format.iso(p.run.startedAt))), exit \(p.run.exitCode.map { "\($0)" } ?? "–")).</p>"
            h += "<table><thead><tr><th>Rows</th><th class=n>Previous</th><th class=n>This run</th><th class=n>Difference</th></tr></thead><tbody>"
            var lines: [(String, Int, Int)] = [("read", p.counts.read, data.counts.read)]
            lines += zip(p.counts.parts, data.counts.parts).map { ($0.name, $0.value, $1.value) }
            lines.append(("open breaks", p.openBreaks, data.breaks.filter(\.isOpenDrift).count))
            for (name, then, now) in lines {
                h += "<tr><td>\(e(label(name)))</td><td class=n>\(then)</td><td class=n>\(now)</td><td class=n>\(e(Format.signed(now - then)))</td></tr>"
            }
            h += "</tbody></table>"
            let changes = totalsChanges(current: data.totals, previous: p.totals)
            if !changes.isEmpty {
                h += "<table><thead><tr><th>Website</th><th>Currency</th><th>Figure (input)</th><th class=n>Previous</th><th class=n>This run</th><th class=n>Difference</th></tr></thead><tbody>"
                for c in changes {
                    for figure in Figure.allCases {
                        let then = c.previous[figure].inputMinor, now = c.current[figure].inputMinor
                        h += "<tr><td class=mono>\(e(c.websiteID))</td><td>\(e(c.currency))</td><td>\(e(figure.rawValue))</td>"
                        h += "<td class=\"n mono\">\(e(Amount.format(then, exponent: c.exponent)))</td><td class=\"n mono\">\(e(Amount.format(now, exponent: c.exponent)))</td>"
                        h += "<td class=\"n mono\">\(e(Format.signedMoney(now - then, exponent: c.exponent)))</td></tr>"
                    }
                }
                h += "</tbody></table>"
            }
        } else {
            h += "<p class=muted>This is the first sending run of this ledger.</p>"
        }
        h += "</section>"

        h += "</main><footer>Generated \(e(Format.iso(data.generatedAt))) by cashier-batch from the ledger. Money is exact (minor units, ISO 4217 exponents); times are UTC.</footer></body></html>\n"
        return h
    }

    /// “Needs a person”: the open drift breaks (priority, then per currency the largest difference
    /// first), the rows needing review or failed, and the accepted differences with their reasons.
    static func attention(_ data: ReportData) -> String {
        let e = htmlEscape
        let open = data.breaks.needingAttention, accepted = data.breaks.accepted
        var h = ""
        if let r = data.reconciliationRun {
            h += "<section><h2>This reconciliation</h2><p>\(e(r.headline)).</p><table><thead><tr><th>Found</th>"
                + (r.previous.map { "<th class=n>Previous (run \($0.madeByRunID))</th>" } ?? "") + "<th class=n>This run</th>"
                + (r.previous != nil ? "<th class=n>Difference</th>" : "") + "</tr></thead><tbody>"
            for line in r.comparison {
                h += "<tr><td>\(e(line.name))</td>" + (line.before.map { "<td class=n>\($0)</td>" } ?? "") + "<td class=n>\(line.now)</td>"
                    + (line.before.map { "<td class=n>\(e(Format.signed(line.now - $0)))</td>" } ?? "") + "</tr>"
            }
            h += "</tbody></table></section>"
        }
        guard !open.isEmpty || !accepted.isEmpty || data.counts.failed > 0 || !data.reviews.isEmpty else { return h }
        h += "<section><h2>Needs a person</h2>"
        if open.isEmpty {
            h += "<p class=muted>No open drift break.</p>"
        } else {
            h += "<p>\(open.count) open break\(open.count == 1 ? "" : "s"): high priority first, then per currency the largest difference first. "
                + "A known, agreed difference is accepted with <code>cashier-batch accept --break ID --reason TEXT</code>.</p>" + breakTable(open, data)
        }
        if data.counts.failed > 0 {
            h += "<p><b>\(data.counts.failed) failed row\(data.counts.failed == 1 ? "" : "s")</b>: <code>cashier-batch retry</code> sends them again; reasons below and in rejects.csv.</p>"
        }
        if !data.reviews.isEmpty { h += "<p><b>\(data.reviews.count) row\(data.reviews.count == 1 ? "" : "s") need review</b>: see “Needs review” below.</p>" }
        if !accepted.isEmpty {
            h += "<h3>Accepted differences (\(accepted.count))</h3><p class=muted>Known and agreed: no reason for exit 4 while the difference stays the same; "
                + "<code>cashier-batch accept --revoke ID</code> ends one.</p>" + breakTable(accepted, data)
        }
        return h + "</section>"
    }

    /// A table of breaks in the given order, with their ledger ids and, when accepted, who accepted them and why.
    static func breakTable(_ breaks: [Break], _ data: ReportData) -> String {
        let e = htmlEscape
        let anyAccepted = breaks.contains { $0.acceptance != nil }
        var h = "<table><thead><tr><th class=n>Id</th><th>Priority</th><th>Website</th><th>Customer</th><th>Currency</th><th>Field</th><th class=n>Operator</th><th class=n>Rebilly</th><th class=n>Difference</th><th>Lifecycle</th><th>First seen</th><th class=n>Nights</th><th>Can withdraw</th>"
            + (anyAccepted ? "<th>Accepted</th>" : "") + "<th>Detail</th></tr></thead><tbody>"
        for b in breaks {
            h += "<tr\(b.isHighPriorityDrift ? " class=high" : "")><td class=n>\(b.id.map(String.init) ?? "–")</td><td>\(b.isHighPriorityDrift ? "<b>HIGH</b>" : "normal")</td><td class=mono>\(e(b.websiteID))</td><td class=mono>\(e(b.customerID))</td><td>\(e(b.currency))</td><td>\(e(b.field.rawValue))</td>"
            h += "<td class=\"n mono\">\(b.moneyExpected.map(e) ?? "–")</td><td class=\"n mono\">\(b.moneyActual.map(e) ?? "–")</td>"
            h += "<td class=\"n mono\">\(b.moneyDifferenceMinor.map { e(Format.signedMoney(Int128($0), exponent: b.exponent)) } ?? "–")</td>"
            h += "<td class=\"lc \(e(b.lifecycle.rawValue))\">\(e(b.lifecycle.rawValue))\(b.opening ? " <span class=muted>· opening</span>" : "")</td><td>\(e(Format.iso(b.firstSeenAt))) <span class=muted>(run \(b.firstSeenRunID))</span></td><td class=n>\(b.nightsOpen(at: data.nightsAsOf))</td>"
            h += "<td>\(b.canWithdraw.map { $0 ? "yes" : "<b>no</b>" } ?? "–")</td>"
            if anyAccepted { h += "<td>\(b.acceptance.map { e("acceptance \($0.id) by \($0.acceptedBy) on \(Format.iso($0.acceptedAt)): \($0.reason)") } ?? "–")</td>" }
            h += "<td>\(e(b.shownDetail ?? ""))</td></tr>"
        }
        return h + "</tbody></table>"
    }

    static func row(_ cells: [String]) -> String {
        "<tr><th>\(cells[0])</th>" + cells.dropFirst().map { "<td>\($0)</td>" }.joined() + "</tr>"
    }

    static func ms(_ value: Int?) -> String { value.map(String.init) ?? "–" }

    /// The night's exit code; when a later reconciliation raised it, the run's own beside it.
    static func exitCode(run: Int32?, verdict: Int32?) -> String {
        guard let verdict else { return "–" }
        guard let run, run != verdict else { return "\(verdict)" }
        return "\(verdict) (the run exited \(run); reconciliation found breaks after it)"
    }

    static func verdictWord(_ level: String) -> String {
        switch level {
        case "ok": "OK"
        case "warning": "CHECK"
        default: "FAILED"
        }
    }

    static func label(_ name: String) -> String {
        switch name {
        case "inDoubt": "in doubt"
        case "needsReview": "needs review"
        default: name
        }
    }

    static func outcomeColor(_ name: String) -> String {
        switch name {
        case "done": "#2f855a"
        case "skipped": "#68d391"
        case "rejected": "#c05621"
        case "failed": "#c53030"
        case "inDoubt": "#b7791f"
        default: "#718096"
        }
    }

    static let css = """
        body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1a202c;background:#f7fafc}
        main{padding:0 24px 24px}section{background:#fff;border:1px solid #e2e8f0;border-radius:6px;margin:16px 0;padding:12px 16px}
        h1{font-size:20px;margin:0}h2{font-size:16px;margin:0 0 10px}
        .verdict{display:flex;gap:18px;align-items:center;padding:16px 24px;color:#fff}.verdict p{margin:4px 0 0}
        .verdict.ok{background:#2f855a}.verdict.warning{background:#b7791f}.verdict.failure{background:#c53030}
        .verdict .big{font-size:26px;font-weight:700;border:2px solid #fff;border-radius:6px;padding:4px 12px}
        .verdict .muted{color:#edf2f7}
        table{border-collapse:collapse;width:100%;margin:6px 0 10px}th,td{border-bottom:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
        thead th{background:#edf2f7;font-weight:600}table.kv{width:auto}table.kv th{background:none;font-weight:600;padding-right:24px}
        .n{text-align:right;white-space:nowrap}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;overflow-wrap:anywhere}td.n.mono{overflow-wrap:normal}
        .muted{color:#718096}.ok{color:#2f855a;font-weight:600}.bad{color:#c53030;font-weight:700}
        tr.off td{background:#fff5f5}tr.high td{background:#fed7d7}
        .lc.new{color:#c53030;font-weight:600}.lc.persisting{color:#b7791f;font-weight:600}.lc.resolved{color:#2f855a}
        .cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #e2e8f0;border-radius:6px;padding:8px 14px;min-width:90px;border-top:4px solid #718096}
        .card .num{font-size:22px;font-weight:700}.card .lbl{color:#4a5568}.card .delta{font-size:12px;color:#4a5568}
        .card.done{border-top-color:#2f855a}.card.skipped{border-top-color:#68d391}.card.rejected{border-top-color:#c05621}
        .card.failed{border-top-color:#c53030}.card.inDoubt{border-top-color:#b7791f}.card.read{border-top-color:#2b6cb0}
        .charts{display:flex;flex-wrap:wrap;gap:18px}figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
        svg .lbl{font-size:12px;fill:#2d3748}svg .val{font-size:12px;fill:#1a202c;font-weight:600}svg .tick{font-size:10px;fill:#4a5568}
        svg .axis{stroke:#a0aec0;stroke-width:1}.ex{font-size:12px;margin-bottom:2px}
        footer{color:#718096;font-size:12px;padding:0 24px 24px}
        """
}
