import CashierModel
import Foundation
import Ledger
import Reconciliation

/// One shard of a night run as N shards (`run --shard i/N`), as the merged report shows it.
public struct ShardSummary: Sendable, Equatable {
    /// `i` of `i/N`.
    public var index: Int
    /// `N` of `i/N`.
    public var count: Int
    /// The shard's ledger, as given to `report --merge`.
    public var ledgerPath: String
    /// The shard's run (the last night run of its ledger).
    public var run: RunInfo
    public var counts: RowCounts
    /// Open drift breaks of the shard's run.
    public var openBreaks: Int
    /// The shard's own verdict.
    public var verdict: Verdict
    /// The shard's breaks, API requests and latest successful run (for `metrics.prom`).
    public var breaks: [Break]
    public var requests: [OperationStats]
    public var lastSuccessAt: Date?

    /// `i/N`.
    public var label: String { "\(index)/\(count)" }
}

/// One ledger given to ``ShardMerge``: its path (for messages and the report) and the ledger,
/// opened read-only by the caller.
public struct ShardLedger: Sendable {
    public var path: String
    public var ledger: Ledger
    public init(path: String, ledger: Ledger) {
        self.path = path
        self.ledger = ledger
    }
}

/// Why ledgers cannot be merged into one report: they do not partition one night's batches.
public struct ShardMergeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `cashier-batch report --merge`: one report for a night run as N shards, each with its own
/// ledger. Each ledger's last night run is reported as ``ReportBuilder`` reports it, then:
///
/// - the shards must partition the night: every shard 0…N-1 present exactly once with the same
///   N, the same batches (by SHA-256) in every shard, and no row (batch SHA-256 and line, or
///   websiteId + customerId + currency) in two ledgers;
/// - counts, totals (exact minor units) and breaks are the sums and the union of the shards';
///   request statistics are recomputed from every shard's attempts (exact percentiles);
/// - the verdict's exit code is the worst (highest) of the shards' (a shard still running or
///   crashed is worse than any);
/// - every batch row of the report carries its shard, and ``ReportData/shards`` lists them.
///
/// Nothing is written to the ledgers.
public struct ShardMerge: Sendable {
    public var now: @Sendable () -> Date
    public init(now: @escaping @Sendable () -> Date = { Date() }) { self.now = now }

    public func build(_ ledgers: [ShardLedger]) throws -> ReportData {
        guard !ledgers.isEmpty else { throw ShardMergeError("no shard ledger to merge: give the ledgers of every shard (or their directory)") }
        struct Part { var path: String; var ledger: Ledger; var shard: (index: Int, count: Int); var data: ReportData; var record: RunRecord }
        var parts: [Part] = []
        for item in ledgers {
            let data = try ReportBuilder(ledger: item.ledger, now: now).build()
            guard let record = try item.ledger.run(id: data.run.id) else { throw ReportError.noSuchRun(data.run.id) }
            let text = (try? JSONParser.parse(record.optionsJSON))?["shard"]?.stringValue
            var shard = (index: 0, count: 1)
            if let text {
                let pieces = text.split(separator: "/")
                guard pieces.count == 2, let i = Int(pieces[0]), let n = Int(pieces[1]), n >= 1, (0..<n).contains(i) else {
                    throw ShardMergeError("\(item.path): run \(record.id) names shard \"\(text)\", which is not i/N")
                }
                shard = (i, n)
            }
            parts.append(Part(path: item.path, ledger: item.ledger, shard: shard, data: data, record: record))
        }

        // Every shard present once, with one N.
        let n = parts[0].shard.count
        for p in parts where p.shard.count != n {
            throw ShardMergeError("the ledgers are not shards of one night: \(parts[0].path) holds shard \(parts[0].shard.index)/\(n) "
                + "but \(p.path) holds shard \(p.shard.index)/\(p.shard.count); give the ledgers of one --shard i/N split")
        }
        var byIndex: [Int: String] = [:]
        for p in parts {
            if let other = byIndex[p.shard.index] {
                throw ShardMergeError("shard \(p.shard.index)/\(n) is given twice (\(other) and \(p.path)): give each shard's ledger once")
            }
            byIndex[p.shard.index] = p.path
        }
        let missing = (0..<n).filter { byIndex[$0] == nil }
        if !missing.isEmpty {
            throw ShardMergeError("shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(n)" }.joined(separator: ", ")) "
                + "missing: the merged report needs the ledger of every shard 0…\(n - 1) (given: "
                + parts.map { "\($0.shard.index)/\(n) \($0.path)" }.joined(separator: ", ") + ")")
        }
        parts.sort { $0.shard.index < $1.shard.index }

        // The same batches everywhere.
        let first = Set(parts[0].data.batches.map(\.sha256))
        for p in parts.dropFirst() {
            let mine = Set(p.data.batches.map(\.sha256))
            guard mine == first else {
                let only = mine.subtracting(first).sorted().map { String($0.prefix(12)) }
                let lacks = first.subtracting(mine).sorted().map { String($0.prefix(12)) }
                throw ShardMergeError("shard \(p.shard.index)/\(n) (\(p.path)) did not process the batches of shard 0/\(n) (\(parts[0].path))"
                    + (only.isEmpty ? "" : "; only it has \(only.joined(separator: ", "))")
                    + (lacks.isEmpty ? "" : "; it lacks \(lacks.joined(separator: ", "))")
                    + ": merge the shards of one night")
            }
        }

        // No row in two shards: every row is in the shard its customer belongs to (the rule that
        // split the batch), so no line and no customer can be in two. One row at a time, nothing kept.
        for p in parts {
            let where_ = "shard \(p.shard.index)/\(n) (\(p.path))"
            for batch in try p.ledger.batches(runID: p.record.id) {
                try p.ledger.forEachRow(batchID: batch.id) { row in
                    let owner = Shard.shard(ofCustomerID: row.customerID, count: n)
                    guard owner != p.shard.index else { return }
                    throw ShardMergeError("line \(row.line) of \(batch.path) (customer \(row.customerID ?? "none")) is in \(where_), "
                        + "but its customer belongs to shard \(owner)/\(n): the shards overlap; merge the ledgers of one --shard i/N split")
                }
            }
        }

        // The merge.
        var shards: [ShardSummary] = []
        var counts = RowCounts()
        var batches: [BatchInfo] = []
        var totals: [ReportBuilder.TotalsKey: ReconciliationTotals] = [:]
        var breaks: [Break] = []
        var reasons: [ReportBuilder.ReasonKey: ReasonGroup] = [:]
        var notes: [String] = []
        // One chart for the night: its buckets span every shard's calls.
        let overviews = try parts.map { try $0.ledger.attemptOverview(runID: $0.record.id) }
        let spans = overviews.compactMap(\.span)
        var calls = AttemptTally(span: spans.isEmpty ? nil : spans.map(\.lowerBound).min()!...spans.map(\.upperBound).max()!)
        for (p, overview) in zip(parts, overviews) {
            let d = p.data
            let label = "\(p.shard.index)/\(n)"
            shards.append(ShardSummary(index: p.shard.index, count: n, ledgerPath: p.path, run: d.run, counts: d.counts,
                                       openBreaks: d.breaks.filter(\.isOpenDrift).count, verdict: d.verdict,
                                       breaks: d.breaks, requests: d.requests, lastSuccessAt: d.lastSuccessAt))
            counts = counts + d.counts
            for var b in d.batches { b.shard = label; batches.append(b) }
            for t in d.totals {
                let key = ReportBuilder.TotalsKey(website: t.websiteID, currency: t.currency)
                totals[key] = totals[key].map { $0.adding(t) } ?? t
            }
            breaks += d.breaks
            for r in d.reasons {
                let key = ReportBuilder.ReasonKey(state: r.state, field: r.field, pattern: r.pattern)
                var group = reasons[key] ?? ReasonGroup(state: r.state, field: r.field, pattern: r.pattern, count: 0, examples: [])
                group.count += r.count
                group.examples += r.examples.prefix(3 - group.examples.count)
                reasons[key] = group
            }
            try calls.add(ledger: p.ledger, runID: p.record.id, overview: overview)
            notes += d.reconciliationNotes.map { "Shard \(label): \($0)" }
        }
        // A totals entry some shard has not reconciled has no Rebilly figures for the night.
        let reconciled = parts.allSatisfy(\.data.reconciled)
        var entries = totals.values.sorted { ($0.websiteID, $0.currency) < ($1.websiteID, $1.currency) }
        for index in entries.indices {
            let holders = parts.filter { p in p.data.totals.contains { $0.websiteID == entries[index].websiteID && $0.currency == entries[index].currency } }
            let complete = holders.allSatisfy(\.data.reconciled)
            if !complete { entries[index] = entries[index].withoutComparison }
        }

        var data = ReportData(
            run: Self.mergedRun(parts.map(\.data.run)), batches: batches, counts: counts,
            requests: calls.requests, throughput: calls.throughput,
            totals: entries, breaks: breaks.sorted(by: Break.order), reconciled: reconciled, reconciliationNotes: notes,
            reasons: reasons.values.sorted { ($1.count, $0.field, $0.pattern) < ($0.count, $1.field, $1.pattern) },
            rejects: parts.flatMap(\.data.rejects), previous: nil, lastSuccessAt: nil, generatedAt: now(),
            reconciledAt: parts.compactMap(\.data.reconciledAt).max())
        data.unread = parts.flatMap(\.data.unread)
        data.reviews = parts.flatMap(\.data.reviews)
        data.shards = shards
        return data
    }

    /// The night as one run: from the first start to the last finish; the worst status and exit
    /// code (a shard still running or crashed leaves the night so, whatever the others did).
    static func mergedRun(_ runs: [RunInfo]) -> RunInfo {
        let status: RunStatus
        if runs.contains(where: { $0.status == .crashed }) { status = .crashed }
        else if runs.contains(where: { $0.status == .running }) { status = .running }
        else { status = runs.first { $0.status != .finished }?.status ?? .finished }
        let codes = runs.map(\.exitCode)
        let exit: Int32? = codes.contains(where: { $0 == nil }) ? nil : codes.compactMap { $0 }.max()
        let finished = runs.contains { $0.finishedAt == nil } ? nil : runs.compactMap(\.finishedAt).max()
        let commands = Set(runs.map(\.command)).sorted().joined(separator: "+")
        return RunInfo(id: 0, command: "\(commands), \(runs.count) shard\(runs.count == 1 ? "" : "s")", status: status,
                       startedAt: runs.map(\.startedAt).min() ?? Date(), finishedAt: finished, exitCode: exit)
    }
}
