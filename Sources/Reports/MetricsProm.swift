import CashierModel
import Foundation
import Ledger

/// `metrics.prom`: the Prometheus textfile-collector format node_exporter reads
/// (`--collector.textfile.directory`). Every metric has its `# HELP` and `# TYPE`
/// line; the file is replaced atomically (see ``ReportWriter``).
///
/// `cashier_batch_last_success_timestamp_seconds` keeps its value across failed
/// runs: it is the latest of the previous file's value and the ledger's last
/// successful run (a run that went to its end with exit 0, 3 or 4).
public enum MetricsProm {
    /// Row states exported by `cashier_batch_rows`.
    public static let rowStates = ["read", "done", "skipped", "rejected", "failed", "in_doubt", "needs_review", "unfinished"]
    /// Break fields exported by `cashier_batch_breaks` (always all of them, 0 when none).
    public static let breakFields = ["balance", "bonusBalance", "pendingPayoutTotal", "depositRequestMissing", "depositRequestDuplicate"]

    /// Renders the file; `previous` is the text of the metrics file being replaced, if any.
    /// A merged report (``ReportData/shards``) writes every sample once per shard, labelled
    /// `shard="i"` (with `shards="N"`), so `sum()` over the shards gives the night.
    public static func render(_ data: ReportData, previous: String?) -> String {
        struct Part { var labels: [(String, String)]; var run: RunInfo; var counts: RowCounts; var breaks: [Break]; var requests: [OperationStats]; var lastSuccessAt: Date? }
        var parts: [Part] = []
        if data.shards.isEmpty {
            parts = [Part(labels: [], run: data.run, counts: data.counts, breaks: data.breaks, requests: data.requests, lastSuccessAt: data.lastSuccessAt)]
        } else {
            for shard in data.shards {
                parts.append(Part(labels: [("shard", String(shard.index)), ("shards", String(shard.count))], run: shard.run, counts: shard.counts,
                                  breaks: shard.breaks, requests: shard.requests, lastSuccessAt: shard.lastSuccessAt))
            }
        }
        var s = ""
        func metric(_ name: String, _ type: String, _ help: String) {
            s += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)] = [], _ value: String) {
            let l = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            s += "\(name)\(l) \(value)\n"
        }
        if let build = data.build {
            metric("cashier_batch_build_info", "gauge", "Always 1: the release, commit and Swift version of the binary that wrote this file.")
            sample("cashier_batch_build_info", [("release", build.release), ("commit", build.commit), ("swift", build.swift)], "1")
        }
        metric("cashier_batch_last_run_timestamp_seconds", "gauge", "Unix time the last run of the job ended (or started, while running).")
        for p in parts { sample("cashier_batch_last_run_timestamp_seconds", p.labels, seconds(p.run.finishedAt ?? p.run.startedAt)) }

        metric("cashier_batch_last_success_timestamp_seconds", "gauge",
               "Unix time the last successful run ended (exit 0, 3 or 4); kept when a run fails, 0 if none yet.")
        for p in parts {
            let lastRun = p.run.finishedAt ?? p.run.startedAt
            // A previous value later than this run cannot be a real success: it is ignored.
            var lastSuccess = previous.flatMap { value(of: "cashier_batch_last_success_timestamp_seconds", labels: p.labels, in: $0) }
                .flatMap { $0 <= lastRun.timeIntervalSince1970 + 1 ? $0 : nil }
            if let known = p.lastSuccessAt?.timeIntervalSince1970 { lastSuccess = max(lastSuccess ?? 0, known) }
            sample("cashier_batch_last_success_timestamp_seconds", p.labels, String(format: "%.3f", lastSuccess ?? 0))
        }

        metric("cashier_batch_last_run_exit_code", "gauge", "Exit code of the last run (-1 while running).")
        for p in parts { sample("cashier_batch_last_run_exit_code", p.labels, String(p.run.exitCode.map(Int.init) ?? -1)) }

        metric("cashier_batch_duration_seconds", "gauge", "Wall-clock duration of the last run.")
        for p in parts { sample("cashier_batch_duration_seconds", p.labels, String(format: "%.3f", p.run.durationSeconds ?? 0)) }

        metric("cashier_batch_rows", "gauge", "Rows of the last run's batches by state (read = the sum of the others).")
        for p in parts {
            let c = p.counts
            let values = [c.read, c.done, c.skipped, c.rejected, c.failed, c.inDoubt, c.needsReview, c.unfinished]
            for (state, n) in zip(rowStates, values) { sample("cashier_batch_rows", p.labels + [("state", state)], String(n)) }
        }

        metric("cashier_batch_breaks", "gauge", "Open reconciliation breaks of the last run by field.")
        for p in parts {
            var breaks: [String: Int] = [:]
            for b in p.breaks where b.isOpenDrift { breaks[b.field.rawValue, default: 0] += 1 }
            let fields = breakFields + breaks.keys.filter { !breakFields.contains($0) }.sorted()
            for field in fields { sample("cashier_batch_breaks", p.labels + [("field", field)], String(breaks[field] ?? 0)) }
        }

        metric("cashier_batch_accepted_breaks", "gauge", "Breaks of the last run covered by an acceptance (known differences, not a reason for exit 4).")
        for p in parts { sample("cashier_batch_accepted_breaks", p.labels, String(p.breaks.accepted.count)) }

        metric("cashier_batch_requests_total", "counter", "API requests of the last run by operation and HTTP status (none: no answer).")
        for p in parts {
            let labels = p.labels
            for op in p.requests {
                for (status, count) in op.byStatus {
                    sample("cashier_batch_requests_total", labels + [("operation", op.operation.rawValue), ("status", status)], String(count))
                }
            }
        }
        return s
    }

    static func seconds(_ date: Date) -> String { String(format: "%.3f", date.timeIntervalSince1970) }

    /// Label values escape backslash, double quote and line feed (exposition format).
    static func escapeLabel(_ value: String) -> String {
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    /// The value of a sample with exactly these labels (none: unlabelled) in a previous metrics file.
    static func value(of name: String, labels: [(String, String)] = [], in text: String) -> Double? {
        let prefix = name + (labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}") + " "
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let v = Double(parts[1]), v.isFinite { return v }
        }
        return nil
    }
}
