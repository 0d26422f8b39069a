/// RFC 9457 problem documents shaped like Rebilly's error bodies.
enum Problem {
    static func body(status: Int, title: String, detail: String, extra: [(String, JSONValue)] = []) -> JSONValue {
        .object([("status", .int(status)), ("title", .string(title)), ("detail", .string(detail))] + extra)
    }

    static let unauthorized = body(status: 401, title: "Unauthorized", detail: "Invalid credentials")

    static func forbidden(organization: String) -> JSONValue {
        body(status: 403, title: "Forbidden", detail: "The API key has no access to organization \(organization)")
    }

    static func notFound(_ detail: String) -> JSONValue {
        body(status: 404, title: "Not Found", detail: detail)
    }

    static func validation(_ fields: [InvalidField]) -> JSONValue {
        body(status: 422, title: "Validation error", detail: "Invalid data sent", extra: [("invalidFields", .array(fields.map(\.json)))])
    }

    static let tooManyRequests: JSONValue = .object([
        ("type", .string("about:blank")),
        ("title", .string("Rate Limit Exceeded")),
        ("status", .int(429)),
        ("detail", .string("A request cannot be executed because the user has sent too many requests within a certain period of time")),
    ])

    static func injected(status: Int) -> JSONValue {
        let title = switch status {
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Internal Server Error"
        }
        return body(status: status, title: title, detail: "Fault injected by the sandbox (--fail-rate)")
    }
}
