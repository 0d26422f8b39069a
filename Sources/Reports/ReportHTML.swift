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
            h += "<h3>Shards</h3>" + HTMLTable<ShardSummary>([
                .init("Shard") { e($0.label) },
                .init("Ledger", .mono) { e($0.ledgerPath) },
                .init("Run", .number) { "\($0.run.id)" },
                .init("Status") { e($0.run.status.rawValue) },
                .init("Exit code", .number) { $0.run.exitCode.map { "\($0)" } ?? "–" },
                .init("Started (UTC)") { e(Format.iso($0.run.startedAt)) },
                .init("Finished (UTC)") { $0.run.finishedAt.map { e(Format.iso($0)) } ?? "–" },
                .init("Read", .number) { "\($0.counts.read)" },
                .init("Done", .number) { "\($0.counts.done)" },
                .init("Rejected", .number) { "\($0.counts.rejected)" },
                .init("Failed", .number) { "\($0.counts.failed)" },
                .init("Open breaks", .number) { "\($0.openBreaks)" },
                .init("Verdict", attributes: { " class=\"\(e($0.verdict.level))\"" }) { e($0.verdict.level) },
            ], tableAttributes: " class=shards").render(data.shards)
        }
        let sharded = data.batches.contains { $0.shard != nil }
        if !data.batches.isEmpty {
            h += HTMLTable<BatchInfo>([
                sharded ? .init("Shard") { e($0.shard ?? "–") } : nil,
                .init("Batch", .mono) { e($0.path) },
                .init("SHA-256", attributes: { " class=mono title=\"\(e($0.sha256))\"" }) { "\(e(String($0.sha256.prefix(12))))…" },
                .init("Format") { "\(e($0.format))\($0.gzip ? " + gzip" : "")" },
                .init("Control") { e($0.controlVerdict.rawValue) },
                .init("Read", .number) { "\($0.counts.read)" },
                .init("Done", .number) { "\($0.counts.done)" },
                .init("Skipped", .number) { "\($0.counts.skipped)" },
                .init("Rejected", .number) { "\($0.counts.rejected)" },
                .init("Failed", .number) { "\($0.counts.failed)" },
                .init("In doubt", .number) { "\($0.counts.inDoubt)" },
                .init("Needs review", .number) { "\($0.counts.needsReview)" },
                .init("Unfinished", .number) { "\($0.counts.unfinished)" },
                .init("Identity", attributes: { $0.counts.closes ? " class=ok" : " class=bad" }) { $0.counts.closes ? "holds" : "does not close" },
            ]).render(data.batches)
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
            h += HTMLTable<OperationStats>([
                .init("Operation", .mono) { e($0.operation.rawValue) },
                .init("Sent", .number) { "\($0.sent)" },
                .init("By status") { $0.byStatus.map { "\(e($0.status)): \($0.count)" }.joined(separator: ", ") },
                .init("Retries", .number) { "\($0.retries)" },
                .init("429s", .number) { "\($0.tooManyRequests)" },
                .init("p50 ms", .number) { ms($0.p50) },
                .init("p95 ms", .number) { ms($0.p95) },
                .init("max ms", .number) { ms($0.max) },
            ]).render(data.requests)
        }
        h += "</section>"

        // Totals.
        h += "<section><h2>Totals per website and currency</h2>"
        if data.totals.isEmpty {
            h += "<p class=muted>No valid row.</p>"
        } else {
            if !data.reconciled { h += "<p class=muted>Not reconciled: Rebilly's figures, net and gross are unknown for this run.</p>" }
            typealias Line = (t: ReconciliationTotals, f: FigureTotals)
            h += HTMLTable<Line>([
                .init("Website", .mono) { e($0.t.websiteID) },
                .init("Currency") { e($0.t.currency) },
                .init("Figure") { e($0.f.figure.rawValue) },
                .init("Rows", .number) { "\($0.t.inputRows)" },
                .init("Input", .money) { e($0.f.input) },
                .init("Sent", .money) { e($0.f.sent) },
                .init("Rebilly", .money) { $0.f.rebilly.map(e) ?? "–" },
                .init("Net difference", .money) { $0.f.netDifference.map(e) ?? "–" },
                .init("Gross difference", .money) { $0.f.grossDifference.map(e) ?? "–" },
            ], rowAttributes: { ($0.f.grossDifferenceMinor ?? 0) != 0 ? " class=off" : "" })
            .render(data.totals.flatMap { t in Figure.allCases.map { (t: t, f: t[$0]) } })
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
            h += "<h3>Not read back: neither matched nor broken</h3>" + HTMLTable<UnreadCashier>([
                .init("Website", .mono) { e($0.websiteID) },
                .init("Customer", .mono) { e($0.customerID) },
                .init("Currency") { e($0.currency) },
                .init("Cashier", .mono) { e($0.cashierID ?? "–") },
                .init("Why") { e($0.reason) },
            ], rowAttributes: { _ in " class=off" }).render(data.unread)
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
            let (count, cashiers) = (sums.differences, sums.cashiers)
            h += "<h3>Opening differences (\(count))</h3><p class=muted>On \(cashiers) cashier\(cashiers == 1 ? "" : "s") created this night: Rebilly holds no history for them yet, so their figures cannot agree. Never a reason for exit 4. Summed per website and currency; each cashier's figures are in the ledger.</p>"
            h += "<details><summary>Per website and currency (\(sums.count))</summary>" + HTMLTable<DifferenceSums>([
                .init("Website", .mono) { e($0.websiteID) },
                .init("Currency") { e($0.currency) },
                .init("Cashiers", .number) { "\($0.cashiers)" },
                .init("Differences", .number) { "\($0.differences)" },
            ] + Figure.allCases.enumerated().map { i, figure in
                .init("Σ \(e(figure.rawValue))", .money) { e(Format.signedMoney($0.sums[i], exponent: $0.exponent)) }
            }).render(sums) + "</details>"
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
            h += HTMLTable<ReviewRow>([
                .init("Row", .number) { "\($0.rowID)" },
                .init("Batch", .mono) { e($0.batchPath) },
                .init("Line", .number) { "\($0.line)" },
                .init("Customer", .mono) { e($0.customerID ?? "") },
                .init("Why") { e($0.reason) },
            ]).render(data.reviews.prefix(50))
            if data.reviews.count > 50 { h += "<p class=muted>\(data.reviews.count - 50) more in report.json.</p>" }
            h += "</section>"
        }

        // Reasons.
        h += "<section><h2>Top rejection and failure reasons</h2>"
        if data.reasons.isEmpty {
            h += "<p class=muted>No row was rejected or failed.</p>"
        } else {
            h += HTMLTable<ReasonGroup>([
                .init("State") { e($0.state.rawValue) },
                .init("Field", .mono) { e($0.field) },
                // Grouped by rule; shown with a real message of the group, not its masked pattern.
                .init("Reason") { e($0.examples.first?.message ?? $0.pattern) },
                .init("Rows", .number) { "\($0.count)" },
                .init("Examples") { group in
                    group.examples.map { ex in
                        "<div class=ex><span class=mono>\(e(ex.batchPath)):\(ex.line)</span> <span class=mono>\(e(ex.customerID ?? "(no customerId)"))</span> — \(e(ex.message))</div>"
                    }.joined()
                },
            ]).render(data.reasons.prefix(15))
            if data.reasons.count > 15 { h += "<p class=muted>\(data.reasons.count - 15) more reasons in report.json; every row in rejects.csv.</p>" }
        }
        h += "</section>"

        // Previous run.
        h += "<section><h2>Compared with the previous run</h2>"
        if let p = data.previous {
            h += "<p>Run \(p.run.id) (\(e(p.run.command)), \(e(Format.iso(p.run.startedAt))), exit \(p.run.exitCode.map { "\($0)" } ?? "–")).</p>"
            typealias Count = (name: String, then: Int, now: Int)
            var lines: [Count] = [("read", p.counts.read, data.counts.read)]
            lines += zip(p.counts.parts, data.counts.parts).map { ($0.name, $0.value, $1.value) }
            lines.append(("open breaks", p.openBreaks, data.breaks.filter(\.isOpenDrift).count))
            h += HTMLTable<Count>([
                .init("Rows") { e(label($0.name)) },
                .init("Previous", .number) { "\($0.then)" },
                .init("This run", .number) { "\($0.now)" },
                .init("Difference", .number) { e(Format.signed($0.now - $0.then)) },
            ]).render(lines)
            let changes = totalsChanges(current: data.totals, previous: p.totals)
            if !changes.isEmpty {
                typealias Change = (c: TotalsChange, figure: Figure, then: Int128, now: Int128)
                h += HTMLTable<Change>([
                    .init("Website", .mono) { e($0.c.websiteID) },
                    .init("Currency") { e($0.c.currency) },
                    .init("Figure (input)") { e($0.figure.rawValue) },
                    .init("Previous", .money) { e(Amount.format($0.then, exponent: $0.c.exponent)) },
                    .init("This run", .money) { e(Amount.format($0.now, exponent: $0.c.exponent)) },
                    .init("Difference", .money) { e(Format.signedMoney($0.now - $0.then, exponent: $0.c.exponent)) },
                ]).render(changes.flatMap { c in
                    Figure.allCases.map { (c: c, figure: $0, then: c.previous[$0].inputMinor, now: c.current[$0].inputMinor) }
                })
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
            typealias Line = (name: String, key: String, before: Int?, now: Int)
            h += "<section><h2>This reconciliation</h2><p>\(e(r.headline)).</p>" + HTMLTable<Line>([
                .init("Found") { e($0.name) },
                r.previous.map { p in .init("Previous (run \(p.madeByRunID))", .number) { $0.before.map { "\($0)" } ?? "" } },
                .init("This run", .number) { "\($0.now)" },
                r.previous.map { _ in .init("Difference", .number) { line in line.before.map { e(Format.signed(line.now - $0)) } ?? "" } },
            ]).render(r.comparison) + "</section>"
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
        return HTMLTable<Break>([
            .init("Id", .number) { $0.id.map(String.init) ?? "–" },
            .init("Priority") { $0.isHighPriorityDrift ? "<b>HIGH</b>" : "normal" },
            .init("Website", .mono) { e($0.websiteID) },
            .init("Customer", .mono) { e($0.customerID) },
            .init("Currency") { e($0.currency) },
            .init("Field") { e($0.field.rawValue) },
            .init("Operator", .money) { $0.moneyExpected.map(e) ?? "–" },
            .init("Rebilly", .money) { $0.moneyActual.map(e) ?? "–" },
            .init("Difference", .money) { b in b.moneyDifferenceMinor.map { e(Format.signedMoney(Int128($0), exponent: b.exponent)) } ?? "–" },
            .init("Lifecycle", attributes: { " class=\"lc \(e($0.lifecycle.rawValue))\"" }) {
                e($0.lifecycle.rawValue) + ($0.opening ? " <span class=muted>· opening</span>" : "")
            },
            .init("First seen") { "\(e(Format.iso($0.firstSeenAt))) <span class=muted>(run \($0.firstSeenRunID))</span>" },
            .init("Nights", .number) { "\($0.nightsOpen(at: data.nightsAsOf))" },
            .init("Can withdraw") { $0.canWithdraw.map { $0 ? "yes" : "<b>no</b>" } ?? "–" },
            anyAccepted ? .init("Accepted") { b in b.acceptance.map { e("acceptance \($0.id) by \($0.acceptedBy) on \(Format.iso($0.acceptedAt)): \($0.reason)") } ?? "–" } : nil,
            .init("Detail") { e($0.shownDetail ?? "") },
        ], rowAttributes: { $0.isHighPriorityDrift ? " class=high" : "" }).render(breaks)
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
