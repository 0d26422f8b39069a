import AsyncHTTPClient
import CashierModel
import Foundation
import NIOCore
import NIOHTTP1

/// The Rebilly cashier API over one pooled `HTTPClient`.
///
/// One instance serves a whole run: connections are kept alive and shared by every
/// worker (the pool holds up to `configuration.maxConnections` per host). Redirects
/// are never followed (the key must not travel to another host). Every answer's body,
/// header values and transport message are scrubbed of the key as they arrive (a proxy,
/// an error page or a login redirect may echo it; see `APIKey.scrub`), so nothing the
/// client hands out holds it. Request bodies are taken as exact JSON text
/// (`CashierRow.cashierBody` / `.depositRequestBody`), and responses are decoded with
/// CashierModel's `JSONParser`, which keeps numbers as text, so money never passes through `Double`.
///
/// The client does not retry, throttle or log: each call is one attempt, whose
/// outcome (result or `RebillyError`) carries the status, rate-limit headers and
/// latency for the ledger; the sender decides what to do. Call `shutdown()` once
/// at the end of the run.
public final class RebillyClient: Sendable, CustomStringConvertible {
    public let configuration: RebillyConfiguration
    private let http: HTTPClient
    /// The local wall clock, in UTC epoch seconds (tests skew it; see ``RateLimitInfo/parse(header:now:epochNow:)``).
    private let wallClock: @Sendable () -> Double

    /// Largest response body read (a page of 1000 deposit requests fits comfortably).
    public static let maxResponseBytes = 16 << 20

    public init(configuration: RebillyConfiguration, wallClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.configuration = configuration
        self.wallClock = wallClock
        var config = HTTPClient.Configuration()
        config.timeout = .init(
            connect: .nanoseconds(Self.nanos(configuration.connectTimeout)),
            read: .nanoseconds(Self.nanos(configuration.readTimeout))
        )
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnections)
        // One attempt per call: the sender's backoff handles failed connects and records them.
        config.connectionPool.retryConnectionEstablishment = false
        config.redirectConfiguration = .disallow
        config.decompression = .disabled
        config.httpVersion = .automatic
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    /// Closes the pool. Call once, after the last request.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    public var description: String {
        "RebillyClient(baseURL: \(configuration.baseURL), organizationId: \(configuration.organizationId ?? "none"), apiKey: <redacted>)"
    }

    // MARK: - operations

    /// `POST /cashiers` with `body` (exact JSON text). 201 → `.created`, 200 → `.retrieved`
    /// (that customer/website/currency already had a cashier; it is returned unchanged).
    public func createCashier(body: String) async throws(RebillyError) -> CashierResult {
        let response = try await send(.POST, "/cashiers", body: body)
        let cashier = try decode(response, Cashier.decode)
        return CashierResult(
            cashier: cashier, status: response.status, outcome: response.status == 201 ? .created : .retrieved,
            location: response.header("Location"), rateLimit: response.rateLimit, latency: response.latency
        )
    }

    /// `GET /cashiers/{id}` (the reconciliation read-back).
    public func getCashier(id: String) async throws(RebillyError) -> CashierResult {
        let response = try await send(.GET, "/cashiers/" + Self.pathSegment(id))
        let cashier = try decode(response, Cashier.decode)
        return CashierResult(
            cashier: cashier, status: response.status, outcome: .retrieved,
            location: nil, rateLimit: response.rateLimit, latency: response.latency
        )
    }

    /// `POST /deposit-requests` with `body` (exact JSON text). Not idempotent: if this
    /// fails with `mayHaveBeenApplied`, list before sending again.
    public func createDepositRequest(body: String) async throws(RebillyError) -> DepositRequestResult {
        let response = try await send(.POST, "/deposit-requests", body: body)
        let request = try decode(response, DepositRequest.decode)
        return DepositRequestResult(
            depositRequest: request, status: response.status, location: response.header("Location"),
            rateLimit: response.rateLimit, latency: response.latency
        )
    }

    /// `GET /deposit-requests/{id}` (what `resolve --adopt` checks a request the ledger does not hold against).
    public func getDepositRequest(id: String) async throws(RebillyError) -> DepositRequestResult {
        let response = try await send(.GET, "/deposit-requests/" + Self.pathSegment(id))
        let request = try decode(response, DepositRequest.decode)
        return DepositRequestResult(
            depositRequest: request, status: response.status, location: nil,
            rateLimit: response.rateLimit, latency: response.latency
        )
    }

    /// `GET /deposit-requests?filter=customerId:…;websiteId:…&sort=…&limit=…&offset=…`:
    /// the customer's deposit requests on that website, newest first by default. Used to
    /// find out whether an in-doubt deposit request was created before sending it again.
    public func listDepositRequests(
        customerId: String, websiteId: String, sort: String = "-createdTime", limit: Int = 100, offset: Int = 0
    ) async throws(RebillyError) -> DepositRequestPage {
        let filter = "customerId:\(Self.filterValue(customerId));websiteId:\(Self.filterValue(websiteId))"
        return try await listDepositRequests(filter: filter, sort: sort, limit: limit, offset: offset)
    }

    /// `GET /deposit-requests?filter=[customerId:C;]websiteId:W;createdTime:FROM..TO&sort=…&limit=…&offset=…`:
    /// a website's (or one customer's on it) deposit requests created from `createdFrom` to
    /// `createdTo`, both inclusive and sent to the whole second, the fraction dropped (round
    /// `createdTo` up). The range and RFC 3339 values are Rebilly's filter syntax, "Using filter
    /// with collections" in Rebilly's API reference. Rebilly's `customerId` filter may ignore case.
    public func listDepositRequests(
        websiteId: String, customerId: String? = nil, createdFrom: Date, createdTo: Date, sort: String = "createdTime",
        limit: Int = 1000, offset: Int = 0
    ) async throws(RebillyError) -> DepositRequestPage {
        let range = RFC3339.string(createdFrom) + ".." + RFC3339.string(createdTo)
        let customer = customerId.map { "customerId:\(Self.filterValue($0));" } ?? ""
        let filter = customer + "websiteId:\(Self.filterValue(websiteId));createdTime:\(Self.filterValue(range))"
        return try await listDepositRequests(filter: filter, sort: sort, limit: limit, offset: offset)
    }

    /// One page of `GET /deposit-requests` with a filter already in Rebilly's syntax (values encoded).
    private func listDepositRequests(filter: String, sort: String, limit: Int, offset: Int) async throws(RebillyError) -> DepositRequestPage {
        let query = [
            "filter=" + filter,
            "sort=" + Self.queryComponent(sort),
            "limit=\(limit)",
            "offset=\(offset)",
        ].joined(separator: "&")
        let response = try await send(.GET, "/deposit-requests", query: query)
        let items = try decode(response) { (json: JSONValue) throws(DecodingFailure) -> [DepositRequest] in
            guard let array = json.arrayValue else { throw DecodingFailure("a deposit-request collection must be a JSON array") }
            var items: [DepositRequest] = []
            items.reserveCapacity(array.count)
            for element in array { items.append(try DepositRequest.decode(element)) }
            return items
        }
        return DepositRequestPage(
            items: items,
            total: response.header("Pagination-Total").flatMap { Int($0) },
            limit: response.header("Pagination-Limit").flatMap { Int($0) },
            offset: response.header("Pagination-Offset").flatMap { Int($0) },
            rateLimit: response.rateLimit, latency: response.latency
        )
    }

    // MARK: - transport

    /// One answered call, before decoding.
    struct RawResponse: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var rateLimit: RateLimitInfo
        var latency: Duration

        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    private func send(_ method: HTTPMethod, _ path: String, query: String? = nil, body: String? = nil) async throws(RebillyError) -> RawResponse {
        var url = configuration.apiRoot + path
        if let query { url += "?" + query }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "REB-APIKEY", value: configuration.apiKey.revealedForHeader)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let isPost = method == .POST
        let start = ContinuousClock.now
        let deadline = NIODeadline.now() + .nanoseconds(Self.nanos(configuration.requestDeadline))
        let status: Int
        let headers: HTTPHeaders
        let bytes: [UInt8]
        // Server text enters here, and only here: the key is scrubbed from all of it at once.
        let key = configuration.apiKey
        do {
            let response = try await http.execute(request, deadline: deadline)
            status = Int(response.status.code)
            headers = Self.scrub(response.headers, of: key)
            let buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
            bytes = key.scrub(Array(buffer.readableBytesView))
        } catch {
            let latency = ContinuousClock.now - start
            let (kind, message, sent) = Self.classifyTransport(error, endpoint: configuration.endpoint,
                                                               deadline: configuration.requestDeadline)
            throw .transport(kind: kind, message: key.scrub(message), mayHaveBeenApplied: isPost && sent, latency: latency)
        }
        let now = ContinuousClock.now
        let latency = now - start
        let rateLimit = RateLimitInfo.parse(header: { headers.first(name: $0) }, now: now, epochNow: wallClock())
        guard (200...299).contains(status) else {
            // A redirect, or a 404 where Rebilly has no resource to miss: not Rebilly's API.
            if (300...399).contains(status) || (status == 404 && (method == .POST || query != nil)) {
                let fullPath = URL(string: configuration.apiRoot + path)?.path ?? path
                throw .misdirected(status: status, path: fullPath, location: headers.first(name: "Location"), latency: latency)
            }
            throw Self.problem(status: status, body: bytes, rateLimit: rateLimit, latency: latency)
        }
        return RawResponse(status: status, headers: headers, body: bytes, rateLimit: rateLimit, latency: latency)
    }

    /// `headers` with the key scrubbed from every value (the same headers when none holds it).
    static func scrub(_ headers: HTTPHeaders, of key: APIKey) -> HTTPHeaders {
        var echoed = false
        let pairs = headers.map { header -> (String, String) in
            let value = key.scrub(header.value)
            if value != header.value { echoed = true }
            return (header.name, value)
        }
        return echoed ? HTTPHeaders(pairs) : headers
    }

    private func decode<T>(_ response: RawResponse, _ decoder: (JSONValue) throws(DecodingFailure) -> T) throws(RebillyError) -> T {
        do {
            let json = try JSONParser.parse(response.body)
            return try decoder(json)
        } catch let failure as DecodingFailure {
            throw .decoding(message: failure.message, status: response.status, latency: response.latency)
        } catch {
            throw .decoding(message: "\(error)", status: response.status, latency: response.latency)
        }
    }

    /// Maps a non-2xx answer to `.problem`, reading an RFC 9457 body when there is one.
    static func problem(status: Int, body: [UInt8], rateLimit: RateLimitInfo, latency: Duration) -> RebillyError {
        var title: String?
        var detail: String?
        var fields: [FieldIssue] = []
        if let json = try? JSONParser.parse(body), case .object = json {
            title = json["title"]?.stringValue
            detail = json["detail"]?.stringValue
            for item in json["invalidFields"]?.arrayValue ?? [] {
                guard let field = item["field"]?.stringValue else { continue }
                fields.append(FieldIssue(field: field, message: item["message"]?.stringValue ?? ""))
            }
        } else if !body.isEmpty {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
                .unicodeScalars.map { $0.properties.generalCategory == .control ? " " : String($0) }.joined()
                .trimmingCharacters(in: .whitespaces)
            detail = text.isEmpty ? nil : text
        }
        return .problem(status: status, title: title, detail: detail, invalidFields: fields, rateLimit: rateLimit, latency: latency)
    }

    /// What a transport failure means: its kind, a message naming the endpoint ("connection
    /// refused by 127.0.0.1:8399", "no answer from api.rebilly.com:443 in 30 s"), and whether the
    /// request may have reached the server (false only when no connection was ever made).
    static func classifyTransport(_ error: any Error, endpoint: String = "the API", deadline: Duration = .seconds(30)) -> (TransportErrorKind, String, Bool) {
        let exact = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        let seconds = exact == exact.rounded() ? String(Int(exact)) : String(format: "%.1f", exact)
        if error is CancellationError { return (.cancelled, "cancelled", true) }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
                return (.timeout, "no connection to \(endpoint) within the connect timeout", false)
            case .tlsHandshakeTimeout:
                return (.timeout, "TLS handshake with \(endpoint) timed out", false)
            case .readTimeout, .writeTimeout:
                return (.timeout, "\(endpoint) stopped answering mid-request (read or write timeout)", true)
            case .deadlineExceeded:
                return (.timeout, "no answer from \(endpoint) in \(seconds) s", true)
            case .remoteConnectionClosed:
                return (.connection, "\(endpoint) closed the connection before answering", true)
            case .cancelled:
                return (.cancelled, "cancelled", true)
            case .alreadyShutdown:
                return (.other, "the HTTP client was already shut down", false)
            default:
                return (.other, "\(error)", true)
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return (.timeout, "no connection to \(endpoint) within the connect timeout", false)
            default: return (.connection, "connection to \(endpoint) failed: \(error)", true)
            }
        }
        if let error = error as? IOError {
            return errnoFailure(error.errnoCode, endpoint: endpoint)
        }
        let text = "\(error)"
        let typeName = String(describing: type(of: error))
        if typeName.contains("NIOConnectionError") || typeName.contains("SocketAddressError") || typeName.contains("DNS") {
            // Every connection attempt failed (refused, unreachable, name not found).
            if text.contains("111") || text.lowercased().contains("refused") { return errnoFailure(ECONNREFUSED, endpoint: endpoint) }
            if typeName.contains("SocketAddressError") || text.contains("resolve") || text.contains("DNS") {
                return (.connection, "cannot resolve \(endpoint)", false)
            }
            return (.connection, "cannot connect to \(endpoint)", false)
        }
        if typeName.contains("SSL") || typeName.contains("TLS") || typeName.contains("BoringSSL") {
            return (.connection, "TLS failure with \(endpoint): \(text)", false)
        }
        return (.other, text, true)
    }

    /// A socket error by its errno, in words, with whether the request may have left.
    static func errnoFailure(_ code: Int32, endpoint: String) -> (TransportErrorKind, String, Bool) {
        switch code {
        case ECONNREFUSED: return (.connection, "connection refused by \(endpoint)", false)
        case EHOSTUNREACH, ENETUNREACH: return (.connection, "\(endpoint) is unreachable", false)
        case EADDRNOTAVAIL: return (.connection, "cannot connect to \(endpoint): address not available", false)
        case ECONNRESET: return (.connection, "\(endpoint) reset the connection", true)
        case EPIPE: return (.connection, "\(endpoint) closed the connection", true)
        default: return (.connection, "connection to \(endpoint) failed: \(String(cString: strerror(code)))", true)
        }
    }

    // MARK: - encoding helpers

    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    static func percentEncode(_ text: String, keeping extra: Set<UInt8> = []) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || extra.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// A path segment (ids are `^[@~\-\.\w]+$`; anything else is percent-encoded, never a `/`).
    static func pathSegment(_ id: String) -> String { percentEncode(id, keeping: Set("@".utf8)) }

    /// A value inside `filter=`: percent-encoded once with the query (`&`, `=`, `+`,
    /// `%`, spaces, non-ASCII). Rebilly's filter syntax has no escape for `;` and `,`
    /// inside a value, so ids containing them cannot be matched exactly: callers
    /// should compare the returned items' `customerId`/`websiteId` anyway.
    static func filterValue(_ value: String) -> String { percentEncode(value, keeping: Set(":".utf8)) }

    /// A query parameter value, keeping the filter syntax characters readable.
    static func queryComponent(_ value: String) -> String { percentEncode(value, keeping: Set(":;,".utf8)) }

    static func nanos(_ d: Duration) -> Int64 {
        let (s, attos) = d.components
        return s * 1_000_000_000 + attos / 1_000_000_000
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
