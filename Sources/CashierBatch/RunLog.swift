#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BatchRun
import BuildInfo
import CashierModel
import Foundation
import Synchronization

/// Log lines on stderr: human text, or one JSON object per line (`--log-format json`).
/// Secrets never reach it: nothing logged carries the API key.
final class RunLog: Sendable {
    let format: LogFormat
    private let lock = Mutex(())

    init(format: LogFormat) { self.format = format }

    func callAsFunction(_ event: RunEvent) { write(event) }

    /// Whether this process has logged its build yet (one line, before its first other line).
    private static let announced = Mutex(false)

    /// The line naming the binary: `cashier-batch release=1.0.0 commit=… swift=6.3.1`.
    static var buildEvent: RunEvent {
        let build = Build.current
        return RunEvent(.info, "cashier-batch", [("release", .string(build.release)), ("commit", .string(build.commit)), ("swift", .string(build.swift))])
    }

    /// Logs `event`; the process's first log line names the build, so every log says which binary wrote it.
    func write(_ event: RunEvent) {
        if Self.announced.withLock({ done in defer { done = true }; return !done }) { emit(Self.buildEvent) }
        emit(event)
    }

    private func emit(_ event: RunEvent) {
        let stamp = Self.timestamp()
        let line: String
        switch format {
        case .text:
            let fields = event.fields.map { "\($0.0)=\(Self.quoted(Printable.text($0.1.description, limit: Self.valueLimit)))" }.joined(separator: " ")
            line = "\(stamp) \(event.level.rawValue.uppercased()) \(Printable.text(event.message, limit: Self.messageLimit))\(fields.isEmpty ? "" : " " + fields)"
        case .json:
            var w = JSONWriter()
            w.beginObject()
            w.string("time", stamp)
            w.string("level", event.level.rawValue)
            w.string("message", Printable.text(event.message, limit: Self.messageLimit))
            for (key, value) in event.fields {
                switch value {
                case let .string(text): w.string(key, Printable.text(text, limit: Self.valueLimit))
                case let .integer(number): w.number(key, literal: String(number))
                case let .double(number): w.number(key, literal: number.isFinite ? String(format: "%.3f", number) : "null")
                case let .bool(flag): w.bool(key, flag)
                }
            }
            w.endObject()
            line = w.text
        }
        lock.withLock { _ in
            FileHandle.standardError.write(Data((ProgressLine.clearIfActive() + line + "\n").utf8))
        }
    }

    /// Every message and value is printable and bounded (a batch's cells are already cut to 200
    /// characters where they are quoted; these bounds hold for anything else).
    static let messageLimit = 2_000
    static let valueLimit = 1_000

    static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : value
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
