import CashierModel
import Foundation
import Ledger

/// Shared formatting for every report.
enum Format {
    /// ISO 8601 UTC with milliseconds, e.g. `2026-03-01T02:00:00.125Z`.
    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Seconds with millisecond precision, as text (time, never money).
    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    /// `1h 02m 03s`, `4m 05s`, `6.2s`.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds.rounded())
        let h = total / 3600, m = (total % 3600) / 60, s = total % 60
        return h > 0 ? String(format: "%dh %02dm %02ds", h, m, s) : String(format: "%dm %02ds", m, s)
    }

    /// A signed difference of counts: `+3`, `-2`, `0`.
    static func signed(_ value: Int) -> String { value > 0 ? "+\(value)" : "\(value)" }

    /// A signed exact money difference: `+10.00`, `-0.50`, `0.00`.
    static func signedMoney(_ minor: Int128, exponent: Int) -> String {
        let text = Amount.format(minor, exponent: exponent)
        return minor > 0 ? "+" + text : text
    }
}

/// `report.json`: every figure of the report, schema-versioned (see `docs/report-schema.md`).
public enum ReportJSON {
    /// The schema version written as `schemaVersion`; bumped on any incompatible change.
    public static let schemaVersion = 1

    /// Renders the report as one JSON object (money as exact decimal strings).
    public static func render(_ data: ReportData) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.int("schemaVersion", schemaVersion)
        w.string("generatedAt", Format.iso(data.generatedAt))
        if let build = data.build {
            w.beginObject("build")
            w.string("release", build.release)
            w.string("commit", build.commit)
            w.string("swift", build.swift)
            w.endObject()
        }
        let verdict = data.verdict
        w.beginObject("verdict")
        w.string("level", verdict.level)
        w.string("text", verdict.text)
        if let code = verdict.exitCode { w.int("exitCode", Int(code)) } else { w.null("exitCode") }
        w.endObject()
        writeAttention(data, into: &w)
        data.forecast?.write(data, into: &w)

        w.beginObject("run")
        writeRun(data.run, into: &w)
        w.beginArray("batches")
        for batch in data.batches {
            w.beginObject()
            w.int("id", Int(batch.id))
            w.string("path", batch.path)
            w.string("sha256", batch.sha256)
            w.string("format", batch.format)
            w.bool("gzip", batch.gzip)
            w.string("controlVerdict", batch.controlVerdict.rawValue)
            w.beginObject("counts"); writeCounts(batch.counts, into: &w); w.endObject()
            w.bool("accountingCloses", batch.counts.closes)
            if let shard = batch.shard { w.string("shard", shard) }
            w.endObject()
        }
        w.endArray()
        w.endObject()

        if !data.shards.isEmpty {
            w.beginArray("shards")
            for shard in data.shards {
                w.beginObject()
                w.string("shard", shard.label)
                w.int("index", shard.index)
                w.int("count", shard.count)
                w.string("ledger", shard.ledgerPath)
                w.beginObject("run"); writeRun(shard.run, into: &w); w.endObject()
                w.beginObject("counts"); writeCounts(shard.counts, into: &w); w.endObject()
                w.int("openBreaks", shard.openBreaks)
                w.beginObject("verdict"); w.string("level", shard.verdict.level); w.string("text", shard.verdict.text); w.endObject()
                w.endObject()
            }
            w.endArray()
        }

        w.beginObject("counts")
        writeCounts(data.counts, into: &w)
        w.endObject()

        w.beginObject("requests")
        w.int("total", data.requests.reduce(0) { $0 + $1.sent })
        w.beginArray("operations")
        for op in data.requests {
            w.beginObject()
            w.string("operation", op.operation.rawValue)
            w.int("sent", op.sent)
            w.beginObject("byStatus")
            for (status, count) in op.byStatus { w.int(status, count) }
            w.endObject()
            w.int("retries", op.retries)
            w.int("429s", op.tooManyRequests)
            w.beginObject("latencyMs")
            optionalInt("p50", op.p50, &w); optionalInt("p95", op.p95, &w); optionalInt("max", op.max, &w)
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.beginObject("throughput")
        w.int("bucketSeconds", data.throughput.bucketSeconds)
        if let start = data.throughput.start { w.string("start", Format.iso(start)) } else { w.null("start") }
        w.beginArray("succeeded"); for n in data.throughput.succeeded { w.int(nil, n) }; w.endArray()
        w.beginArray("other"); for n in data.throughput.other { w.int(nil, n) }; w.endArray()
        w.endObject()
        w.endObject()

        w.bool("reconciled", data.reconciled)
        w.beginArray("totals")
        for entry in data.totals { writeTotals(entry, into: &w) }
        w.endArray()

        if let at = data.reconciledAt { w.string("breaksRecordedAt", Format.iso(at)) } else { w.null("breaksRecordedAt") }
        w.beginArray("breaks")
        for b in data.breaks {
            w.beginObject()
            if let id = b.id { w.int("id", Int(id)) } else { w.null("id") }
            w.string("websiteId", b.websiteID)
            w.string("customerId", b.customerID)
            w.string("currency", b.currency)
            w.string("field", b.field.rawValue)
            if let t = b.moneyExpected { w.string("expected", t) } else { w.null("expected") }
            if let t = b.moneyActual { w.string("actual", t) } else { w.null("actual") }
            if let t = b.moneyDifference { w.string("difference", t) } else { w.null("difference") }
            w.string("lifecycle", b.lifecycle.rawValue)
            w.int("firstSeenRunId", Int(b.firstSeenRunID))
            w.string("firstSeenAt", Format.iso(b.firstSeenAt))
            w.int("nightsOpen", b.nightsOpen(at: data.nightsAsOf))
            w.bool("highPriority", b.isHighPriorityDrift)
            w.bool("opening", b.opening)
            if let can = b.canWithdraw { w.bool("canWithdraw", can) }
            if let detail = b.shownDetail { w.string("detail", detail) }
            w.bool("needsAttention", b.isOpenDrift)
            if let a = b.acceptance {
                w.beginObject("accepted")
                w.int("acceptanceId", Int(a.id))
                w.string("by", a.acceptedBy)
                w.string("at", Format.iso(a.acceptedAt))
                w.string("reason", a.reason)
                w.string("difference", a.difference)
                w.endObject()
            }
            w.endObject()
        }
        w.endArray()
        w.beginArray("unreadCashiers")
        for u in data.unread {
            w.beginObject()
            w.string("websiteId", u.websiteID)
            w.string("customerId", u.customerID)
            w.string("currency", u.currency)
            if let id = u.cashierID { w.string("cashierId", id) } else { w.null("cashierId") }
            w.string("reason", u.reason)
            w.endObject()
        }
        w.endArray()
        w.beginArray("needsReviewRows")
        for r in data.reviews {
            w.beginObject()
            w.int("rowId", Int(r.rowID))
            w.string("batch", r.batchPath)
            w.int("line", r.line)
            if let c = r.customerID { w.string("customerId", c) } else { w.null("customerId") }
            w.string("reason", r.reason)
            w.string("resolve", "cashier-batch resolve --run \(data.run.id) --row \(r.rowID) --adopt ID | --resend")
            w.endObject()
        }
        w.endArray()
        w.beginArray("reconciliationNotes")
        for note in data.reconciliationNotes { w.string(nil, note) }
        w.endArray()

        w.beginArray("reasons")
        for group in data.reasons {
            w.beginObject()
            w.string("state", group.state.rawValue)
            w.string("field", group.field)
            w.string("pattern", group.pattern)
            w.int("count", group.count)
            w.beginArray("examples")
            for e in group.examples {
                w.beginObject()
                w.string("batch", e.batchPath)
                w.int("line", e.line)
                if let c = e.customerID { w.string("customerId", c) } else { w.null("customerId") }
                w.string("message", e.message)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()

        if let previous = data.previous {
            w.beginObject("previousRun")
            writeRun(previous.run, into: &w)
            w.beginObject("counts")
            let now = data.counts.parts, then = previous.counts.parts
            diff("read", data.counts.read, previous.counts.read, &w)
            for (a, b) in zip(now, then) { diff(a.name, a.value, b.value, &w) }
            w.endObject()
            diff("openBreaks", data.breaks.filter(\.isOpenDrift).count, previous.openBreaks, &w)
            w.beginArray("totals")
            for change in totalsChanges(current: data.totals, previous: previous.totals) {
                w.beginObject()
                w.string("websiteId", change.websiteID)
                w.string("currency", change.currency)
                for figure in Figure.allCases {
                    let (now, then) = (change.current[figure].inputMinor, change.previous[figure].inputMinor)
                    w.beginObject(figure.rawValue)
                    w.string("previous", Amount.format(then, exponent: change.exponent))
                    w.string("current", Amount.format(now, exponent: change.exponent))
                    w.string("difference", Amount.format(now - then, exponent: change.exponent))
                    w.endObject()
                }
                w.endObject()
            }
            w.endArray()
            w.endObject()
        } else {
            w.null("previousRun")
        }
        w.endObject()
        return w.text + "\n"
    }

    /// `attention`, right after the verdict: the ids of the breaks that need a person in the order
    /// shown, the rows needing review or failed, the accepted count, and the opening differences
    /// summed per website and currency; for a `reconcile` run, what it found against the previous one.
    static func writeAttention(_ data: ReportData, into w: inout JSONWriter) {
        w.beginObject("attention")
        w.beginArray("breakIds")
        for b in data.breaks.needingAttention { if let id = b.id { w.int(nil, Int(id)) } else { w.null(nil) } }
        w.endArray()
        w.int("needsReviewRows", data.counts.needsReview)
        w.int("failedRows", data.counts.failed)
        w.int("acceptedBreaks", data.breaks.accepted.count)
        w.beginArray("openingDifferences")
        for g in data.openingSums {
            w.beginObject()
            w.string("websiteId", g.websiteID)
            w.string("currency", g.currency)
            w.int("cashiers", g.cashiers)
            w.int("differences", g.differences)
            for figure in Figure.allCases { w.string(figure.rawValue, g.sum(figure)) }
            if g.unknown > 0 { w.int("unknown", g.unknown) }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        guard let r = data.reconciliationRun else { return }
        w.beginObject("reconciliation")
        w.int("reconciledRunId", Int(r.reconciled.id))
        w.string("reconciledAt", Format.iso(r.found.reconciledAt))
        if let id = r.replacedBy { w.int("replacedByRunId", Int(id)) } else { w.null("replacedByRunId") }
        if let p = r.previous { w.int("previousMadeByRunId", Int(p.madeByRunID)) } else { w.null("previousMadeByRunId") }
        w.beginObject("found")
        for line in r.comparison { w.int(line.key, line.now) }
        w.endObject()
        if r.previous != nil {
            w.beginObject("previous")
            for line in r.comparison { w.int(line.key, line.before ?? 0) }
            w.endObject()
        }
        w.endObject()
    }

    static func writeRun(_ run: RunInfo, into w: inout JSONWriter) {
        w.int("id", Int(run.id))
        w.string("command", run.command)
        w.string("status", run.status.rawValue)
        w.string("started", Format.iso(run.startedAt))
        if let f = run.finishedAt { w.string("finished", Format.iso(f)) } else { w.null("finished") }
        if let d = run.durationSeconds { w.number("durationSeconds", literal: Format.seconds(d)) } else { w.null("durationSeconds") }
        if let code = run.exitCode { w.int("exitCode", Int(code)) } else { w.null("exitCode") }
    }

    static func writeCounts(_ c: RowCounts, into w: inout JSONWriter) {
        w.int("read", c.read)
        for part in c.parts { w.int(part.name, part.value) }
        if c.cashierKnown > 0 { w.int("cashierKnown", c.cashierKnown) }
    }

    static func writeTotals(_ e: ReconciliationTotals, into w: inout JSONWriter) {
        w.beginObject()
        w.string("websiteId", e.websiteID)
        w.string("currency", e.currency)
        w.int("exponent", e.exponent)
        w.int("rows", e.inputRows)
        for figure in Figure.allCases {
            let f = e[figure]
            w.beginObject(figure.rawValue)
            w.string("input", f.input)
            w.string("sent", f.sent)
            for (name, value) in [("rebilly", f.rebilly), ("net", f.netDifference), ("gross", f.grossDifference), ("opening", f.openingDifference)] {
                if let value { w.string(name, value) } else { w.null(name) }
            }
            w.endObject()
        }
        w.endObject()
    }

    static func optionalInt(_ name: String, _ value: Int?, _ w: inout JSONWriter) {
        if let value { w.int(name, value) } else { w.null(name) }
    }

    static func diff(_ name: String, _ now: Int, _ then: Int, _ w: inout JSONWriter) {
        w.beginObject(name)
        w.int("previous", then); w.int("current", now); w.int("difference", now - then)
        w.endObject()
    }
}

/// One (websiteId, currency) compared across two runs.
struct TotalsChange {
    var websiteID: String
    var currency: String
    var exponent: Int
    var current: ReconciliationTotals
    var previous: ReconciliationTotals
}

/// The union of the keys of both runs; a side without the key counts as zero.
func totalsChanges(current: [ReconciliationTotals], previous: [ReconciliationTotals]) -> [TotalsChange] {
    var keys: [String: (ReconciliationTotals?, ReconciliationTotals?)] = [:]
    func key(_ e: ReconciliationTotals) -> String { e.websiteID + "\u{1F}" + e.currency }
    for e in current { keys[key(e), default: (nil, nil)].0 = e }
    for e in previous { keys[key(e), default: (nil, nil)].1 = e }
    return keys.values.map { pair in
        let any = (pair.0 ?? pair.1)!
        let empty = ReconciliationTotals(websiteID: any.websiteID, currency: any.currency, exponent: any.exponent)
        return TotalsChange(websiteID: any.websiteID, currency: any.currency, exponent: any.exponent,
                            current: pair.0 ?? empty, previous: pair.1 ?? empty)
    }.sorted { ($0.websiteID, $0.currency) < ($1.websiteID, $1.currency) }
}
