import CashierModel

/// How a call failed below HTTP.
public enum TransportErrorKind: String, Sendable, Hashable {
    /// Connect, read or whole-call deadline ran out.
    case timeout
    /// The connection could not be made, or broke.
    case connection
    /// The calling task was cancelled (e.g. SIGINT) while the call was under way.
    case cancelled
    /// Anything else from the HTTP layer.
    case other
}

/// A failed Rebilly call, typed so that the gateway (`CallFailure`) can decide retry / reject /
/// stop without looking at strings. Every case carries the call's latency (for the
/// ledger's attempts). Descriptions never contain the API key or request bodies: the server
/// text they quote was scrubbed of the key when it arrived (``APIKey/scrub(_:)``).
public enum RebillyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The API answered with a non-2xx status and (usually) an RFC 9457 problem
    /// document. A body that is not JSON is tolerated: `detail` then holds its first
    /// 200 characters.
    case problem(status: Int, title: String?, detail: String?, invalidFields: [FieldIssue], rateLimit: RateLimitInfo, latency: Duration)
    /// No HTTP answer. `mayHaveBeenApplied` is true when the request may have reached
    /// the server (connection closed or timed out after sending): for a deposit-request
    /// POST the outcome is then unknown (in doubt) and must be checked by listing before
    /// sending again. It is false when the connection was never established.
    case transport(kind: TransportErrorKind, message: String, mayHaveBeenApplied: Bool, latency: Duration)
    /// A 2xx answer whose body could not be understood. The request was applied.
    case decoding(message: String, status: Int, latency: Duration)
    /// The request did not reach Rebilly's API: a redirect (3xx, never followed), or a 404 on a
    /// path that names no resource (`POST /cashiers`, `POST /deposit-requests`, the list), which
    /// Rebilly never answers — a wrong `--api-url` or `--organization-id`. Nothing was applied.
    /// `path` is the URL's path without its query.
    case misdirected(status: Int, path: String, location: String?, latency: Duration)

    /// Whether a POST that failed this way may nevertheless have been applied, so that
    /// a deposit request must be looked up before it is sent again: the one rule for it.
    ///
    /// True for: transport errors after the request may have left (see `transport`),
    /// 2xx answers that could not be decoded, and every 5xx (a gateway or load balancer may
    /// have forwarded the request before failing, 503 included). False for 4xx (429 included:
    /// refused before processing) and for connections that never opened.
    public var mayHaveBeenApplied: Bool {
        switch self {
        case let .problem(status, _, _, _, _, _): return (500...599).contains(status)
        case let .transport(_, _, applied, _): return applied
        case .decoding: return true
        case .misdirected: return false
        }
    }

    /// The HTTP status, when there was an answer.
    public var status: Int? {
        switch self {
        case let .problem(status, _, _, _, _, _): status
        case .transport: nil
        case let .decoding(_, status, _): status
        case let .misdirected(status, _, _, _): status
        }
    }

    /// The rate-limit headers of the answer (`.none` without one).
    public var rateLimit: RateLimitInfo {
        if case let .problem(_, _, _, _, rateLimit, _) = self { return rateLimit }
        return .none
    }

    /// The API's per-field reasons (422), empty otherwise.
    public var invalidFields: [FieldIssue] {
        if case let .problem(_, _, _, fields, _, _) = self { return fields }
        return []
    }

    /// How long the call took until it failed.
    public var latency: Duration {
        switch self {
        case let .problem(_, _, _, _, _, latency), let .transport(_, _, _, latency), let .decoding(_, _, latency),
             let .misdirected(_, _, _, latency): latency
        }
    }

    public var description: String {
        switch self {
        case let .problem(status, title, detail, fields, _, _):
            var text = "HTTP \(status)"
            if let title, !title.isEmpty { text += " \(title)" }
            if let detail, !detail.isEmpty { text += ": \(detail)" }
            if !fields.isEmpty { text += " (" + fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ") + ")" }
            return text
        case let .transport(kind, message, applied, _):
            return "\(kind.rawValue) error: \(message)" + (applied ? " (the request may have been applied)" : "")
        case let .decoding(message, status, _):
            return "undecodable HTTP \(status) answer: \(message)"
        case let .misdirected(status, path, location, _):
            if status == 404 {
                return "404 on \(path): " + (path.hasPrefix("/organizations/") ? "check --organization-id (and --api-url)" : "check --api-url")
            }
            return "HTTP \(status) redirect on \(path)" + (location.map { " to \(Printable.text($0))" } ?? "")
                + ": check --api-url (the job never follows a redirect)"
        }
    }
}
