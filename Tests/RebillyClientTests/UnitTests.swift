import CashierModel
import Foundation
import Testing
@testable import RebillyClient

@Suite("Decoding both API generations")
struct DecodingTests {
    @Test("old generation: cash_req_ with a single transactionId")
    func legacy() throws {
        let json = try JSONParser.parse(#"""
        {"id":"cash_req_01HB0000000000000000000000","websiteId":"web_1","customerId":"cus_1","currency":"EUR",
         "status":"completed","transactionId":"txn_1","amounts":[10,20],
         "_links":[{"rel":"self","href":"https://api/cashier-requests/cash_req_01HB"},{"rel":"deposit","href":"https://cashier/x?token=t"}]}
        """#)
        let request = try DepositRequest.decode(json)
        #expect(request.id == "cash_req_01HB0000000000000000000000")
        #expect(request.generation == .legacyCashierRequest)
        #expect(request.transactionIds == ["txn_1"])
        #expect(request.status == "completed")
        #expect(request.depositURL == "https://cashier/x?token=t")
        #expect(request.currency == "EUR")
    }

    @Test("old generation with transactionId null; new generation with transactionIds")
    func bothShapes() throws {
        let old = try DepositRequest.decode(try JSONParser.parse(
            #"{"id":"cash_req_1","websiteId":"w","customerId":"c","currency":"USD","status":"created","transactionId":null}"#))
        #expect(old.generation == .legacyCashierRequest && old.transactionIds.isEmpty)
        let new = try DepositRequest.decode(try JSONParser.parse(
            #"{"id":"dep_req_1","websiteId":"w","customerId":"c","currency":"USD","status":"initiated","transactionIds":["t1","t2"],"_links":{"deposit":{"href":"https://d"}}}"#))
        #expect(new.generation == .depositRequest && new.transactionIds == ["t1", "t2"] && new.depositURL == "https://d")
    }

    @Test("missing or mistyped members are decoding failures")
    func failures() throws {
        #expect(throws: DecodingFailure("id is missing")) {
            try DepositRequest.decode(try JSONParser.parse(#"{"websiteId":"w","customerId":"c","currency":"USD"}"#))
        }
        #expect(throws: DecodingFailure("balance must be a number, got a boolean")) {
            try Cashier.decode(try JSONParser.parse(#"{"id":"x","websiteId":"w","customerId":"c","currency":"USD","balance":true}"#))
        }
        #expect(throws: DecodingFailure.self) { try DepositRequest.decode(.array([])) }
    }

    @Test("cashier balances keep their text and parse exactly; null is absent")
    func cashierMoney() throws {
        let c = try Cashier.decode(try JSONParser.parse(
            #"{"id":"cashier_1","websiteId":"w","customerId":"c","currency":"USD","balance":1500.10,"bonusBalance":null,"pendingPayoutTotal":"0.30"}"#))
        #expect(c.balance?.text == "1500.10" && c.balance?.amount == Amount(minorUnits: 150_010, exponent: 2))
        #expect(c.bonusBalance == nil)
        #expect(c.pendingPayoutTotal?.amount == Amount(minorUnits: 30, exponent: 2))
        #expect(ReportedMoney(text: "1.00", currency: "XXX").amount == nil, "unknown currency fails closed")
    }
}

@Suite("Problems and rate-limit headers")
struct ProblemTests {
    @Test("RFC 9457 body with invalidFields")
    func problemBody() {
        let body = Array(#"{"status":422,"title":"Validation error","detail":"Invalid data sent","invalidFields":[{"field":"customAmount.maximum","message":"maximum is invalid"}],"extra":1}"#.utf8)
        let error = RebillyClient.problem(status: 422, body: body, rateLimit: .none, latency: .milliseconds(3))
        #expect(error == .problem(status: 422, title: "Validation error", detail: "Invalid data sent",
                                  invalidFields: [FieldIssue(field: "customAmount.maximum", message: "maximum is invalid")],
                                  rateLimit: .none, latency: .milliseconds(3)))
        #expect(error.description == "HTTP 422 Validation error: Invalid data sent (customAmount.maximum: maximum is invalid)")
    }

    @Test("a non-JSON body (a proxy's HTML page) is tolerated")
    func nonJSON() {
        let error = RebillyClient.problem(status: 502, body: Array("<html>\r\nBad gateway</html>".utf8), rateLimit: .none, latency: .zero)
        guard case let .problem(status, title, detail, fields, _, _) = error else { Issue.record("not a problem"); return }
        #expect(status == 502 && title == nil && fields.isEmpty)
        #expect(detail == "<html>  Bad gateway</html>")
        #expect(error.mayHaveBeenApplied)
        let empty = RebillyClient.problem(status: 400, body: [], rateLimit: .none, latency: .zero)
        #expect(empty.status == 400 && !empty.mayHaveBeenApplied && empty.description == "HTTP 400")
    }

    func headers(_ pairs: [String: String]) -> (String) -> String? {
        { name in pairs.first(where: { $0.key.lowercased() == name.lowercased() })?.value }
    }

    @Test("X-RateLimit-Retry-After is an epoch timestamp, read before Retry-After")
    func epoch() {
        let now = ContinuousClock.now
        let info = RateLimitInfo.parse(
            header: headers(["x-ratelimit-limit": "3000", "X-RateLimit-Remaining": "0", "X-RateLimit-Retry-After": "1713187500", "Retry-After": "5"]),
            now: now, epochNow: 1_713_187_470
        )
        #expect(info.limit == 3000 && info.remaining == 0)
        #expect(info.retryAfter == now + .seconds(30))
        #expect(info.retryAfterEpochSeconds == 1_713_187_500)
        // In the past: resume at once.
        let past = RateLimitInfo.parse(header: headers(["X-RateLimit-Retry-After": "1713187400"]), now: now, epochNow: 1_713_187_470)
        #expect(past.retryAfter == now)
    }

    @Test("Retry-After as delta-seconds and as HTTP-date (IMF-fixdate, RFC 850, asctime)")
    func retryAfter() {
        let now = ContinuousClock.now
        let epochNow = 784_111_767.0  // Sun, 06 Nov 1994 08:49:27 GMT
        #expect(RateLimitInfo.parse(header: headers(["Retry-After": "120"]), now: now, epochNow: epochNow).retryAfter == now + .seconds(120))
        for date in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            let info = RateLimitInfo.parse(header: headers(["Retry-After": date]), now: now, epochNow: epochNow)
            #expect(info.retryAfterEpochSeconds == 784_111_777, "\(date)")
            #expect(info.retryAfter == now + .seconds(10), "\(date)")
        }
        #expect(RateLimitInfo.parse(header: headers(["Retry-After": "soon"]), now: now, epochNow: epochNow).retryAfter == nil)
        #expect(RateLimitInfo.parse(header: headers([:]), now: now) == .none)
    }
}

@Suite("Configuration and secrets")
struct ConfigurationTests {
    let key = try! APIKey("sk_live_SECRET_123")

    @Test("plain http:// is refused for non-loopback hosts", arguments: [
        "http://api.rebilly.com", "http://10.0.0.1:8089", "http://128.0.0.1", "http://127.0.0.1.example.com", "http://[::2]:80", "http://localhost.evil.com",
    ])
    func httpRefused(url: String) {
        #expect {
            try RebillyConfiguration(baseURL: url, apiKey: key)
        } throws: { error in
            (error as? RebillyConfigurationError)?.message.contains("refusing plain http://") == true
        }
    }

    @Test("loopback http and any https are accepted", arguments: [
        "http://127.0.0.1:8089", "http://127.1.2.3", "http://localhost:80/", "http://[::1]:8089", "https://api.rebilly.com", "https://api-sandbox.rebilly.com/",
    ])
    func accepted(url: String) throws {
        let config = try RebillyConfiguration(baseURL: url, apiKey: key)
        #expect(!config.baseURL.hasSuffix("/"))
    }

    @Test("other bad URLs and organization ids are refused", arguments: [
        ("ftp://x", "o"), ("https://user:pw@api.rebilly.com", "o"), ("https://api.rebilly.com?x=1", "o"), ("not a url", "o"),
        ("https://api.rebilly.com", "../admin"), ("https://api.rebilly.com", ""), ("https://api.rebilly.com", String(repeating: "a", count: 51)),
    ])
    func refused(url: String, org: String) {
        #expect(throws: RebillyConfigurationError.self) {
            try RebillyConfiguration(baseURL: url, organizationId: org == "o" ? nil : org, apiKey: key)
        }
    }

    @Test("defaults and the organization prefix")
    func defaults() throws {
        let config = try RebillyConfiguration(apiKey: key)
        #expect(config.baseURL == "https://api-sandbox.rebilly.com")
        #expect(config.apiRoot == "https://api-sandbox.rebilly.com")
        let org = try RebillyConfiguration(organizationId: "org_1", apiKey: key)
        #expect(org.apiRoot == "https://api-sandbox.rebilly.com/organizations/org_1")
    }

    @Test("the key never shows in descriptions, reflection or dump")
    func redaction() async throws {
        let config = try RebillyConfiguration(apiKey: key)
        let client = RebillyClient(configuration: config)
        var dumped = ""
        dump(key, to: &dumped)
        dump(config, to: &dumped)
        let texts = [
            String(describing: key), String(reflecting: key), "\(key)", dumped,
            String(describing: config), String(reflecting: config), "\(config)",
            String(describing: client), String(reflecting: client),
            String(describing: RebillyError.transport(kind: .other, message: "x", mayHaveBeenApplied: false, latency: .zero)),
            String(describing: Mirror(reflecting: key).children.map { "\($0.label ?? ""):\($0.value)" }),
        ]
        for text in texts { #expect(!text.contains("SECRET"), "\(text)") }
        #expect(String(describing: key) == "<redacted>")
        #expect(dumped.contains("<redacted>"))
        #expect(key.revealedForHeader == "sk_live_SECRET_123")
        try await client.shutdown()
    }

    @Test("keys that cannot travel in a header are refused without echoing them")
    func badKeys() {
        for bad in ["", "has space", "line\nbreak", "tab\t", "ключ"] {
            #expect {
                try APIKey(bad)
            } throws: { error in
                !"\(error)".contains(bad) || bad.isEmpty
            }
        }
    }

    @Test("REBILLY_API_KEY: trimmed, required, not echoed")
    func environment() throws {
        #expect(try APIKey.fromEnvironment(["REBILLY_API_KEY": "abc123\n"]).revealedForHeader == "abc123")
        #expect(throws: APIKeyError("no API key: set REBILLY_API_KEY or pass --api-key-file FILE")) { try APIKey.fromEnvironment([:]) }
        #expect(throws: APIKeyError("REBILLY_API_KEY is set but empty")) { try APIKey.fromEnvironment(["REBILLY_API_KEY": " \n"]) }
    }

    @Test("--api-key-file: mode 600 read with the trailing newline trimmed; group/other access refused")
    func keyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rebilly-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("key").path
        try "s3cr3t-key\n".write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try APIKey.fromFile(path: path).revealedForHeader == "s3cr3t-key")
        #expect(try APIKey.load(file: path, environment: ["REBILLY_API_KEY": "other"]).revealedForHeader == "s3cr3t-key")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let accepted = KeyFilePermissions.accepted(.current)
        #expect(throws: APIKeyError("API key file \(path) is refused: others have access to it (mode 644); \(accepted): chmod 600 it")) {
            try APIKey.fromFile(path: path)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o660], ofItemAtPath: path)
        #expect(throws: APIKeyError("API key file \(path) is refused: its group can write it (mode 660); \(accepted): chmod 600 it (or 440 for a group the job runs in)")) {
            try APIKey.fromFile(path: path)
        }
        // The file's group is the creating process's own: group read is accepted (KeyFilePermissionTests has the table).
        try FileManager.default.setAttributes([.posixPermissions: 0o440], ofItemAtPath: path)
        #expect(try APIKey.fromFile(path: path).revealedForHeader == "s3cr3t-key")
        #expect(throws: APIKeyError.self) { try APIKey.fromFile(path: dir.appendingPathComponent("missing").path) }
        let empty = dir.appendingPathComponent("empty").path
        try "\n".write(toFile: empty, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: empty)
        #expect(throws: APIKeyError("API key file \(empty) is empty")) { try APIKey.fromFile(path: empty) }
    }
}
