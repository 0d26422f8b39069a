import Foundation

/// Monitoring pings received on `/_sandbox/ping/{check…}`: a local stand-in for a Healthchecks
/// server, so `--ping-url` can be tried and tested on loopback. Kept in arrival order.
final class PingLog: Sendable {
    struct Entry: Sendable {
        /// The path after `/_sandbox/ping/`, e.g. `nightly/start`.
        var path: String
        var method: String
        var body: String
        var receivedAt: Date
    }

    private let entries = Locked<[Entry]>([])
    /// Older entries are dropped beyond this many.
    private let capacity = 10_000

    func record(_ entry: Entry) {
        entries.withLock {
            if $0.count >= capacity { $0.removeFirst($0.count - capacity + 1) }
            $0.append(entry)
        }
    }

    /// `GET /_sandbox/pings`: `{"pings":[{"path","method","body","receivedTime"}…]}`.
    func document() -> JSONValue {
        let list = entries.withLock { $0 }
        return .object([("pings", .array(list.map { entry in
            .object([
                ("path", .string(entry.path)), ("method", .string(entry.method)), ("body", .string(entry.body)),
                ("receivedTime", .string(Timestamps.format(entry.receivedAt))),
            ])
        }))])
    }
}
