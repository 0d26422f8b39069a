import Foundation

/// The Rebilly secret API key (`REB-APIKEY`), wrapped so that it cannot leak by accident.
///
/// `description`, `debugDescription`, string interpolation, `dump` and mirrors all show
/// `<redacted>`; the secret is only reachable through `revealedForHeader`, which the
/// client uses to build the header. Keys come from the `REBILLY_API_KEY` environment
/// variable or a private file (`--api-key-file`), never from a command-line value
/// (which `ps` would show).
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let secret: String

    /// The environment variable the key is read from.
    public static let environmentVariable = "REBILLY_API_KEY"

    /// Wraps `secret` after checking it can travel in an HTTP header: printable ASCII,
    /// no spaces or control characters, not empty. (A bad byte would otherwise make the
    /// HTTP layer fail with an error that quotes the header value.)
    public init(_ secret: String) throws(APIKeyError) {
        guard !secret.isEmpty else { throw APIKeyError("the API key is empty") }
        guard secret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIKeyError("the API key contains spaces, control or non-ASCII characters")
        }
        self.secret = secret
    }

    /// The secret, for the `REB-APIKEY` header only.
    public var revealedForHeader: String { secret }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: nil) }

    /// Reads the key from `REBILLY_API_KEY` (surrounding whitespace trimmed).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(APIKeyError) -> APIKey {
        guard let value = environment[environmentVariable] else {
            throw APIKeyError("no API key: set \(environmentVariable) or pass --api-key-file FILE")
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIKeyError("\(environmentVariable) is set but empty") }
        do { return try APIKey(trimmed) } catch { throw APIKeyError("\(environmentVariable): \(error.message)") }
    }

    /// Reads the key from a file that only its owner can access.
    ///
    /// A file any group or other user may read or write (mode & 0o077 ≠ 0) is refused,
    /// like ssh refuses such private keys: a secret readable by others is already
    /// leaked. The trailing newline (and surrounding whitespace) is trimmed.
    public static func fromFile(path: String) throws(APIKeyError) -> APIKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw APIKeyError("cannot read API key file \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw APIKeyError("API key file \(path) is not a regular file")
        }
        let mode = Int(info.st_mode) & 0o777
        guard mode & 0o077 == 0 else {
            throw APIKeyError(
                "API key file \(path) is accessible by group or others (mode \(String(mode, radix: 8))); run: chmod 600 \(path)"
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APIKeyError("cannot read API key file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw APIKeyError("API key file \(path) is not UTF-8 text")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIKeyError("API key file \(path) is empty") }
        do { return try APIKey(trimmed) } catch { throw APIKeyError("API key file \(path): \(error.message)") }
    }

    /// `--api-key-file` if given, else `REBILLY_API_KEY`.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(APIKeyError) -> APIKey {
        if let file { return try fromFile(path: file) }
        return try fromEnvironment(environment)
    }
}

/// Why an API key could not be loaded (never contains the key).
public struct APIKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
