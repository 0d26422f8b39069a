import CashierModel
import Foundation
import Ledger

/// A run's API-call statistics (``OperationStats`` per operation and the ``Throughput`` chart),
/// gathered one call at a time. Memory is bounded by the distinct latencies and the chart's
/// buckets, never by the number of calls; the tallies of several shards add up into one.
struct AttemptTally {
    private struct PerOperation {
        var sent = 0
        var rowsCalled = 0
        var statuses: [String: Int] = [:]
        /// Calls per latency in milliseconds: exact percentiles without keeping every call.
        var latencies: [Int: Int] = [:]
        var histogram = [Int](repeating: 0, count: OperationStats.latencyBounds.count + 1)
    }

    private var operations: [AttemptOperation: PerOperation] = [:]
    private let chart: (width: Int, start: Date, count: Int)?
    private var succeeded: [Int]
    private var other: [Int]

    /// A tally for calls between the ends of `span` (the union of every shard's span): the
    /// chart has at most ~60 buckets of a "nice" width.
    init(span: ClosedRange<Date>?) {
        guard let span else {
            chart = nil; succeeded = []; other = []
            return
        }
        let widths = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400]
        let width = widths.first { Double($0) * 60 > span.upperBound.timeIntervalSince(span.lowerBound) } ?? 86400
        let start = Date(timeIntervalSince1970: (span.lowerBound.timeIntervalSince1970 / Double(width)).rounded(.down) * Double(width))
        let count = Int(span.upperBound.timeIntervalSince(start) / Double(width)) + 1
        chart = (width, start, count)
        succeeded = [Int](repeating: 0, count: count)
        other = succeeded
    }

    /// The run's calls of one ledger, streamed from it.
    static func of(ledger: Ledger, runID: Int64) throws -> AttemptTally {
        let overview = try ledger.attemptOverview(runID: runID)
        var tally = AttemptTally(span: overview.span)
        try tally.add(ledger: ledger, runID: runID, overview: overview)
        return tally
    }

    /// Adds one ledger's calls of a run (`overview` from the same ledger and run).
    mutating func add(ledger: Ledger, runID: Int64, overview: AttemptOverview) throws {
        for (operation, rows) in overview.rowsCalled { operations[operation, default: PerOperation()].rowsCalled += rows }
        try ledger.forEachAttempt(runID: runID) { add($0) }
    }

    mutating func add(_ call: AttemptSample) {
        var op = operations[call.operation] ?? PerOperation()
        op.sent += 1
        op.statuses[call.httpStatus.map(String.init) ?? "none", default: 0] += 1
        if let ms = call.latencyMs {
            op.latencies[ms, default: 0] += 1
            op.histogram[OperationStats.latencyBounds.firstIndex { ms <= $0 } ?? OperationStats.latencyBounds.count] += 1
        }
        operations[call.operation] = op
        if let chart {
            let i = Swift.max(0, Swift.min(chart.count - 1, Int(call.at.timeIntervalSince(chart.start) / Double(chart.width))))
            if call.outcome == .succeeded { succeeded[i] += 1 } else { other[i] += 1 }
        }
    }

    /// Per operation that was called, in ``AttemptOperation`` order.
    var requests: [OperationStats] {
        AttemptOperation.allCases.compactMap { operation in
            guard let op = operations[operation], op.sent > 0 else { return nil }
            let sorted = op.latencies.sorted { $0.key < $1.key }
            let timed = sorted.reduce(0) { $0 + $1.value }
            return OperationStats(
                operation: operation, sent: op.sent,
                byStatus: op.statuses.sorted { $0.key < $1.key }.map { (status: $0.key, count: $0.value) },
                retries: op.sent - op.rowsCalled, tooManyRequests: op.statuses["429"] ?? 0,
                p50: Self.percentile(sorted, count: timed, 50), p95: Self.percentile(sorted, count: timed, 95),
                max: sorted.last?.key, histogram: op.histogram)
        }
    }

    var throughput: Throughput {
        guard let chart else { return Throughput(bucketSeconds: 1, start: nil, succeeded: [], other: []) }
        return Throughput(bucketSeconds: chart.width, start: chart.start, succeeded: succeeded, other: other)
    }

    /// Nearest-rank percentile over latencies counted per value (ascending), `count` calls in all.
    static func percentile(_ counted: [(key: Int, value: Int)], count: Int, _ p: Int) -> Int? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Swift.min(count, (p * count + 99) / 100))  // ceil(p/100 · n)
        var seen = 0
        for (latency, calls) in counted {
            seen += calls
            if seen >= rank { return latency }
        }
        return counted.last?.key
    }
}
