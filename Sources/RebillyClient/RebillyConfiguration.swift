import Foundation

/// Where and how the client talks to Rebilly.
///
/// Built once per run from `--api-url`, `--organization-id` and the API key. The
/// initializer refuses what would be unsafe: plain `http://` to anything but a
/// loopback host (the key would cross the network in clear), URLs with credentials,
/// queries or fragments, and organization ids that are not path-safe. Its
/// description never shows the key.
public struct RebillyConfiguration: Sendable, CustomStringConvertible {
    /// Rebilly's sandbox, the default API URL.
    public static let defaultBaseURL = "https://api-sandbox.rebilly.com"
    /// Rebilly's live API.
    public static let liveBaseURL = "https://api.rebilly.com"

    /// Scheme, host, optional port and optional path prefix, without a trailing slash.
    public let baseURL: String
    /// When set, every path is prefixed with `/organizations/{organizationId}`.
    public let organizationId: String?
    /// The secret sent as `REB-APIKEY`.
    public let apiKey: APIKey
    /// Limit for establishing a TCP (and TLS) connection.
    public var connectTimeout: Duration
    /// Limit for silence while waiting for the response.
    public var readTimeout: Duration
    /// Limit for a whole call (connect, send, wait, read the body).
    public var requestDeadline: Duration
    /// Connections kept per host (keep-alive pool size); match it to `--concurrency`.
    public var maxConnections: Int
    /// `User-Agent` header.
    public var userAgent: String

    public init(
        baseURL: String = RebillyConfiguration.defaultBaseURL,
        organizationId: String? = nil,
        apiKey: APIKey,
        connectTimeout: Duration = .seconds(10),
        readTimeout: Duration = .seconds(30),
        requestDeadline: Duration = .seconds(60),
        maxConnections: Int = 16,
        userAgent: String = "cashier-batch"
    ) throws(RebillyConfigurationError) {
        self.baseURL = try Self.validatedBaseURL(baseURL)
        if let organizationId {
            guard Self.isPathSafeId(organizationId) else {
                throw RebillyConfigurationError(
                    "organization id \"\(organizationId)\" is invalid: use at most 50 letters, digits, or @ ~ - . _"
                )
            }
        }
        self.organizationId = organizationId
        self.apiKey = apiKey
        guard connectTimeout > .zero, readTimeout > .zero, requestDeadline > .zero else {
            throw RebillyConfigurationError("timeouts must be positive")
        }
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.requestDeadline = requestDeadline
        guard maxConnections >= 1 else { throw RebillyConfigurationError("maxConnections must be at least 1") }
        self.maxConnections = maxConnections
        self.userAgent = userAgent
    }

    /// `host:port` of the base URL, for messages ("connection refused by 127.0.0.1:8399").
    public var endpoint: String {
        guard let url = URL(string: baseURL), let host = url.host else { return baseURL }
        let port = url.port ?? (url.scheme == "http" ? 80 : 443)
        return "\(host):\(port)"
    }

    /// The prefix every API path gets: `baseURL` + `/organizations/{id}` when set.
    public var apiRoot: String {
        guard let organizationId else { return baseURL }
        return baseURL + "/organizations/" + organizationId
    }

    public var description: String {
        "RebillyConfiguration(baseURL: \(baseURL), organizationId: \(organizationId ?? "none"), apiKey: <redacted>)"
    }

    /// Ids that may be placed in a path as they are: Rebilly's `^[@~\-\.\w]+$`, ≤ 50 characters.
    static func isPathSafeId(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 50 && id.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "@~-._".unicodeScalars.contains($0)
        }
    }

    static func validatedBaseURL(_ text: String) throws(RebillyConfigurationError) -> String {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased() else {
            throw RebillyConfigurationError("API URL \"\(text)\" is not a valid URL")
        }
        guard scheme == "https" || scheme == "http" else {
            throw RebillyConfigurationError("API URL \"\(text)\" must start with https://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RebillyConfigurationError("API URL \"\(text)\" has no host")
        }
        guard components.user == nil, components.password == nil else {
            throw RebillyConfigurationError("API URL must not contain credentials; the key comes from \(APIKey.environmentVariable) or --api-key-file")
        }
        guard components.query == nil, components.fragment == nil else {
            throw RebillyConfigurationError("API URL \"\(text)\" must not have a query or fragment")
        }
        if scheme == "http", !isLoopback(host: host) {
            throw RebillyConfigurationError(
                "refusing plain http:// to \(host): the API key would travel unencrypted; use https:// (http is allowed only for loopback hosts such as 127.0.0.1, ::1 or localhost)"
            )
        }
        return trimmed
    }

    /// 127.0.0.0/8, ::1 (with or without brackets) and localhost.
    public static func isLoopback(host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" || h == "localhost." { return true }
        if h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let octets = h.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        var values: [Int] = []
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(octet), v <= 255 else {
                return false
            }
            values.append(v)
        }
        return values[0] == 127
    }
}

/// A client configuration that cannot be used, with a message for the operator.
public struct RebillyConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
