import CashierModel
import Foundation
import Ledger

/// `summary.md`: the verdict and the key figures, short enough for a chat message.
public enum ReportMarkdown {
    /// How the summary is written: `summary.md`, or plain text for a terminal (the demo).
    public enum Style: Sendable { case markdown, plain }

    /// Renders the summary. In Markdown, values from input (paths, ids, reasons) have Markdown
    /// control characters neutralised so a hostile id cannot forge links or formatting; plain
    /// text has no markup to forge (control characters are escaped either way).
    public static func render(_ data: ReportData, style: Style = .markdown) -> String {
        func md(_ text: String) -> String { style == .markdown ? escaped(text) : Printable.text(text, limit: 1_000) }
        func bold(_ text: String) -> String { style == .markdown ? "**" + text + "**" : text }
        let v = data.verdict
        let icon = v.level == "ok" ? "✅" : v.level == "warning" ? "⚠️" : "❌"
        let run = data.run
        let title = data.shards.isEmpty ? "cashier-batch run \(run.id)" : "cashier-batch, \(data.shards.count) shards merged"
        var s = "\(icon) \(bold(title)) (\(md(run.command))) — exit \(v.exitCode.map { "\($0)" } ?? "–"), \(Format.duration(run.durationSeconds))\n\n"
        s += md(v.text) + "\n\n"
        if let r = data.reconciliationRun {
            s += md(r.headline) + ".\n"
            let changed = r.comparison.filter { $0.before != nil && $0.before != $0.now }
            if r.previous != nil {
                s += "vs the previous reconciliation: " + (changed.isEmpty ? "no change" : changed.map { "\($0.name) \($0.before ?? 0) → \($0.now)" }.joined(separator: ", ")) + "\n"
            }
            let found = r.comparison.filter { $0.now != 0 }.map { "\($0.name) \($0.now)" }
            s += "Found: " + (found.isEmpty ? "nothing to compare" : found.joined(separator: ", ")) + "\n\n"
        }
        let attention = data.breaks.needingAttention
        if !attention.isEmpty {
            s += bold("Needs a person: \(attention.count) break\(attention.count == 1 ? "" : "s")") + " (high priority first, then per currency the largest difference first)\n"
            for b in attention.prefix(Self.named) { s += "- " + Self.line(b, md, bold) + "\n" }
            if attention.count > Self.named { s += "- … \(attention.count - Self.named) more in report.json and report.html\n" }
            s += "A known, agreed difference: " + (style == .markdown ? "`cashier-batch accept --break ID --reason TEXT`" : "cashier-batch accept --break ID --reason TEXT") + ".\n"
        }
        if data.counts.failed > 0 {
            s += "Failed rows: \(data.counts.failed) (" + (style == .markdown ? "`cashier-batch retry`" : "cashier-batch retry") + " sends them again; reasons in rejects.csv)\n"
        }
        if !data.reviews.isEmpty {
            let command = "cashier-batch resolve --run \(run.id) --row ROW --adopt ID | --resend"
            s += "Needs review (the job cannot tell the deposit request from another client's; nothing is sent until resolved): \(data.reviews.count)\n"
            for r in data.reviews.prefix(8) { s += "- row \(r.rowID) (\(md(r.batchPath)) line \(r.line), \(md(r.customerID ?? "?"))): \(md(r.reason))\n" }
            if data.reviews.count > 8 { s += "- … \(data.reviews.count - 8) more in report.json\n" }
            s += "Close each with " + (style == .markdown ? "`\(command)`" : command) + ".\n"
        }
        if !attention.isEmpty || data.counts.failed > 0 || !data.reviews.isEmpty { s += "\n" }
        for shard in data.shards {
            let c = shard.counts
            s += "- shard \(shard.label) (\(md(shard.ledgerPath)), run \(shard.run.id)): exit \(shard.run.exitCode.map { "\($0)" } ?? "–"), "
                + "read \(c.read) · done \(c.done) · rejected \(c.rejected) · failed \(c.failed) · open breaks \(shard.openBreaks)\n"
        }
        if !data.shards.isEmpty { s += "\n" }
        let c = data.counts
        var line = "Rows (now): read \(c.read) · done \(c.done) · skipped \(c.skipped) · rejected \(c.rejected) · failed \(c.failed) · in doubt \(c.inDoubt)"
        if c.needsReview > 0 { line += " · needs review \(c.needsReview)" }
        if c.unfinished > 0 { line += " · unfinished \(c.unfinished)" }
        s += line + "\n"
        if c.cashierKnown > 0 { s += "Cashier known: \(c.cashierKnown) (recorded on an earlier night: no POST /cashiers)\n" }
        if let forecast = data.forecast { s += "Forecast: " + md(forecast.line(data)) + "\n" }
        if let p = data.previous {
            let deltas = zip(c.parts, p.counts.parts).filter { $0.value != $1.value }
                .map { "\($0.name) \(Format.signed($0.value - $1.value))" }
            s += "vs run \(p.run.id): " + (deltas.isEmpty ? "no change in row counts" : deltas.joined(separator: ", ")) + "\n"
        }
        let requests = data.requests.reduce(0) { $0 + $1.sent }
        if requests > 0 {
            let throttled = data.requests.reduce(0) { $0 + $1.tooManyRequests }
            let retries = data.requests.reduce(0) { $0 + $1.retries }
            s += "Requests: \(requests) (\(retries) retries, \(throttled) × 429)"
            let p95 = data.requests.compactMap { op in op.p95.map { "\(op.operation.rawValue) p95 \($0) ms" } }
            if !p95.isEmpty { s += " · " + p95.joined(separator: ", ") }
            s += "\n"
        }
        if !data.totals.isEmpty {
            s += "\nBalances sent (of input):\n"
            for t in data.totals.prefix(8) {
                let balance = t[.balance]
                s += "- \(md(t.websiteID)) \(md(t.currency)): \(balance.sent) of \(balance.input)"
                if let gross = balance.grossDifferenceMinor, gross != 0 { s += " · gross diff \(t.text(gross))" }
                s += "\n"
            }
            if data.totals.count > 8 { s += "- … \(data.totals.count - 8) more in report.html\n" }
        }
        let open = data.breaks.filter(\.isOpenDrift)
        let accepted = data.breaks.accepted
        if !open.isEmpty || !accepted.isEmpty || data.breaks.contains(where: { $0.lifecycle == .resolved }) {
            let new = open.filter { $0.lifecycle == .new }.count
            let high = open.filter(\.isHighPriorityDrift).count
            let resolved = data.breaks.count(where: { $0.lifecycle == .resolved })
            let recorded = data.reconciledAt.map { " (as recorded on \(Format.iso($0)))" } ?? ""
            s += "\nBreaks\(recorded): \(open.count) open (\(new) new, \(open.count - new) persisting), \(resolved) resolved"
            if !accepted.isEmpty { s += ", \(accepted.count) accepted" }
            if high > 0 { s += " — " + bold("\(high) high priority (pendingPayoutTotal)") }
            s += "\n"
        }
        if !accepted.isEmpty {
            s += "Accepted differences (known and agreed; no reason for exit 4 while the difference stays the same): \(accepted.count)\n"
            for b in accepted.prefix(Self.named) { s += "- " + Self.line(b, md, bold) + "\n" }
            if accepted.count > Self.named { s += "- … \(accepted.count - Self.named) more in report.json and report.html\n" }
        }
        let sums = data.openingSums
        if !sums.isEmpty {
            let (count, cashiers) = (sums.differences, sums.cashiers)
            s += "Opening: \(count) difference\(count == 1 ? "" : "s") on \(cashiers) new cashier\(cashiers == 1 ? "" : "s") "
                + "(their first night: Rebilly holds no history for them yet), apart from drift\n"
            for group in sums.prefix(8) { s += "- " + Self.line(group, md) + "\n" }
            if sums.count > 8 { s += "- … \(sums.count - 8) more websites and currencies in report.json\n" }
        }
        if !data.unread.isEmpty {
            s += "\nNot read back (neither matched nor broken): \(data.unread.count)\n"
            for u in data.unread.prefix(8) { s += "- \(md(u.websiteID)) \(md(u.customerID)) \(md(u.currency)): \(md(u.reason))\n" }
            if data.unread.count > 8 { s += "- … \(data.unread.count - 8) more in report.json\n" }
        }
        // A top reason only when one reason stands out (more than one row); else there is none.
        if let top = data.reasons.first, top.count > 1 {
            let example = top.examples.first?.message ?? top.pattern
            s += "\nTop reason: \(md(top.field)): \(md(example)) (\(top.count) row\(top.count == 1 ? "" : "s") like it)\n"
        }
        if c.rejected + c.failed > 0 {
            s += "Rejected and failed rows: rejects.csv (fix and pass back to " + (style == .markdown ? "`run`" : "run") + ").\n"
        }
        return s
    }

    /// Breaks named in summary.md, at most; the rest are counted.
    static let named = 20

    /// One break in a line: customer, website, currency, field, difference (or what a deposit
    /// break found), lifecycle, the acceptance if any, and its ledger id; values through `md`.
    static func line(_ b: Break, _ md: (String) -> String, _ bold: (String) -> String) -> String {
        var parts = [(b.isHighPriorityDrift ? bold("HIGH") + " " : "") + md(b.customerID), md(b.websiteID), md(b.currency), b.field.rawValue]
        if b.field.isDepositRequest {
            parts.append(md(b.shownDetail ?? ""))
        } else if let d = b.differenceMinor {
            parts.append("difference \(Format.signedMoney(Int128(d), exponent: b.exponent)) (batch \(b.expected ?? "–"), Rebilly \(b.actual ?? "–"))")
        } else {
            parts.append("difference unknown: " + md(b.detail ?? "Rebilly's figure is unreadable"))
        }
        if !b.field.isDepositRequest, b.differenceMinor != nil, let detail = b.detail, !detail.isEmpty { parts.append(md(detail)) }
        parts.append(b.lifecycle == .new ? "new" : "open since run \(b.firstSeenRunID)")
        if let a = b.acceptance { parts.append("accepted by \(md(a.acceptedBy)) on \(Format.iso(a.acceptedAt)): " + md(a.reason) + " · acceptance \(a.id)") }
        if let id = b.id { parts.append("id \(id)") }
        return parts.joined(separator: " · ")
    }

    /// One website and currency of summed differences: cashiers, differences, the sum per figure.
    static func line(_ g: DifferenceSums, _ md: (String) -> String) -> String {
        "\(md(g.websiteID)) \(md(g.currency)): \(g.differences) difference\(g.differences == 1 ? "" : "s") on \(g.cashiers) cashier\(g.cashiers == 1 ? "" : "s") · "
            + Figure.allCases.map { "\($0.rawValue) \(Format.signedMoney(g.sums[Figure.allCases.firstIndex(of: $0) ?? 0], exponent: g.exponent))" }.joined(separator: " · ")
            + (g.unknown > 0 ? " · \(g.unknown) unknown" : "")
    }

    /// Escapes Markdown punctuation and drops line breaks from one value.
    static func escaped(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "!", "(", ")", "~": out.append("\\"); out.append(ch)
            case "\n", "\r", "\t": out.append(" ")
            default: out.append(ch)
            }
        }
        return out
    }
}
