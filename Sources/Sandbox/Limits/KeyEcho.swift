import Foundation

/// Test only: how the sandbox echoes the `REB-APIKEY` a request carries back in its answer, as a
/// careless proxy, error page or login redirect would (`--echo-key`), to show the job keeps it out
/// of everything it stores and prints.
public enum EchoKeyMode: String, Sendable, CaseIterable {
    /// A 422 on the first, third, … `POST /cashiers` and on every `POST /deposit-requests` (with the
    /// right key): the key in `detail`, and percent-encoded in an `invalidFields` message. `/` is
    /// written `\/`, as PHP's `json_encode` does.
    case invalidFields = "invalid-fields"
    /// A 401 on every API request, the key (right or wrong) in `detail`.
    case unauthorized
    /// A 302 on every API request, to `https://login.example/?key=` and the key percent-encoded.
    case redirect
    /// A 502 HTML error page on every API request, quoting the key as text, in a script (JSON)
    /// and in a link (percent-encoded).
    case errorPage = "error-page"
}

/// Answers API requests in the configured ``EchoKeyMode``.
struct KeyEcho: Sendable {
    let mode: EchoKeyMode
    /// `POST /cashiers` seen so far (`invalidFields` echoes every other one, so rows are
    /// rejected at both steps).
    private let cashierPosts = Locked(0)

    init(mode: EchoKeyMode) { self.mode = mode }

    /// The echoing answer to a request for `operation` that presented `key` (`accepted`: the
    /// sandbox's own key), or nil when this one goes through.
    func answer(_ operation: Route.Operation, key: String, accepted: Bool) -> JSONResponse? {
        switch mode {
        case .invalidFields:
            guard accepted else { return nil }
            if operation == .postCashier {
                guard cashierPosts.withLock({ count in count += 1; return count % 2 == 1 }) else { return nil }
            } else if operation != .postDepositRequest {
                return nil
            }
            let field = operation == .postCashier ? "customerId" : "websiteId"
            return Self.phpJSON(422, Problem.body(
                status: 422, title: "Validation error", detail: "Invalid data sent with API key \(key)",
                extra: [("invalidFields", .array([.object([
                    ("field", .string(field)), ("message", .string("was refused for REB-APIKEY=\(Self.percentEncoded(key))")),
                ])]))]
            ))
        case .unauthorized:
            return Self.phpJSON(401, Problem.body(status: 401, title: "Unauthorized", detail: "Invalid credentials: \(key)"))
        case .redirect:
            var answer = JSONResponse(status: 302, body: .null, headers: [("Location", "https://login.example/?key=\(Self.percentEncoded(key))")])
            answer.verbatim = (contentType: "text/html; charset=utf-8", text: "<a href=\"https://login.example/\">Sign in</a>")
            return answer
        case .errorPage:
            var script = ""
            JSONWriter.writeString(key, into: &script)
            let page = """
                <!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>\
                <p>The upstream refused REB-APIKEY \(Self.htmlEscaped(key)).</p>\
                <script>var session = {"apiKey": \(script.replacingOccurrences(of: "/", with: "\\/"))};</script>\
                <p><a href="https://login.example/?key=\(Self.percentEncoded(key))">Sign in again</a></p></body></html>
                """
            var answer = JSONResponse(status: 502, body: .null)
            answer.verbatim = (contentType: "text/html; charset=utf-8", text: page)
            return answer
        }
    }

    /// `problem` as Rebilly (PHP) writes it: `/` escaped as `\/`.
    private static func phpJSON(_ status: Int, _ problem: JSONValue) -> JSONResponse {
        var answer = JSONResponse(status: status, body: problem)
        answer.verbatim = (contentType: "application/json", text: JSONWriter.write(problem).replacingOccurrences(of: "/", with: "\\/"))
        return answer
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static func htmlEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
