import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let closeDescriptor = Glibc.close
#elseif canImport(Darwin)
private let closeDescriptor = Darwin.close
#endif

/// The file itself: its mode, its companions' modes, the host name runs record, and the secret scan of options.
extension Ledger {
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Creates the file 0600 (parents 0700) before SQLite opens it, or tightens
    /// an existing one. SQLite gives `-wal`/`-shm` the main file's mode.
    static func prepareFile(at path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: dir) {
            do {
                try FileManager.default.createDirectory(
                    atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw LedgerError.fileSetup(path: dir, errno: errno)
            }
        }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd >= 0 {
            _ = closeDescriptor(fd)
            return
        }
        guard errno == EEXIST else { throw LedgerError.fileSetup(path: path, errno: errno) }
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0, info.st_uid == getuid() {
            if chmod(path, 0o600) != 0 { throw LedgerError.fileSetup(path: path, errno: errno) }
        }
    }

    /// Belt and braces: make sure the WAL companions are owner-only too.
    static func protectCompanions(of path: String) {
        for suffix in ["-wal", "-shm"] {
            let companion = path + suffix
            var info = stat()
            if stat(companion, &info) == 0, info.st_mode & 0o077 != 0, info.st_uid == getuid() {
                _ = chmod(companion, 0o600)
            }
        }
    }

    /// Refuses options that carry a secret (see ``beginRun(command:optionsJSON:)``).
    static func checkNoSecrets(_ optionsJSON: String) throws {
        guard let data = optionsJSON.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data),
              object is [String: Any]
        else { throw LedgerError.invalidOptionsJSON }
        let forbidden: Set<String> = [
            "apikey", "rebillyapikey", "rebapikey", "secret", "clientsecret", "password", "passwd",
            "token", "accesstoken", "bearertoken", "authorization", "privatekey",
        ]
        func walk(_ value: Any) throws {
            if let dict = value as? [String: Any] {
                for (key, inner) in dict {
                    let normalized = key.lowercased().filter { $0.isLetter || $0.isNumber }
                    if forbidden.contains(normalized) || normalized.hasSuffix("secret")
                        || normalized.hasSuffix("password") || normalized.hasSuffix("token") {
                        throw LedgerError.secretInOptions(key: key)
                    }
                    try walk(inner)
                }
            } else if let array = value as? [Any] {
                for inner in array { try walk(inner) }
            }
        }
        try walk(object)
        if let key = ProcessInfo.processInfo.environment["REBILLY_API_KEY"], key.count >= 8,
           optionsJSON.contains(key) {
            throw LedgerError.secretInOptions(key: "(value of REBILLY_API_KEY)")
        }
    }
}
