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

    /// Reads the key from a private file: one that nobody but its owner can write and that
    /// nobody outside the process's own user and groups can read.
    ///
    /// Accepted (``KeyFilePermissions/refusal(mode:owner:group:process:)`` is the rule):
    /// - a regular file owned by root or by the process's effective user — the owner can
    ///   always change the mode, so it must be someone the job already trusts;
    /// - no permission bit at all for others (`o=`): a key others can read is already leaked;
    /// - no write bit for the group: only the owner may change the key;
    /// - group read only when the file's group is the process's effective group or one of its
    ///   supplementary groups. That is how a kubelet projects a Secret with `defaultMode: 0400`
    ///   and `fsGroup`: owner root, group the pod's fsGroup, mode 0440 (kubernetes/kubernetes#57923).
    ///
    /// So 0600, 0400 and 0440/0640 (group = the process's) pass; 0644, 0604, 0660, 0460, a
    /// group-readable file of a group the process is not in, or a file owned by another user,
    /// are refused, like ssh refuses such private keys. The trailing newline (and surrounding
    /// whitespace) is trimmed.
    public static func fromFile(path: String) throws(APIKeyError) -> APIKey {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw APIKeyError("cannot read API key file \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw APIKeyError("API key file \(path) is not a regular file")
        }
        let mode = Int(info.st_mode) & 0o7777
        if let reason = KeyFilePermissions.refusal(mode: mode, owner: info.st_uid, group: info.st_gid, process: .current) {
            throw APIKeyError("API key file \(path) is refused: \(reason)")
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

/// The permission rule for `--api-key-file` (see ``APIKey/fromFile(path:)``).
public enum KeyFilePermissions {
    /// Who the process is: effective user and group, and its supplementary groups.
    public struct Process: Sendable, Equatable {
        public var uid: uid_t
        public var gid: gid_t
        public var groups: [gid_t]
        public init(uid: uid_t, gid: gid_t, groups: [gid_t]) {
            self.uid = uid
            self.gid = gid
            self.groups = groups
        }

        /// This process (`geteuid`, `getegid`, `getgroups`).
        public static var current: Process {
            let n = getgroups(0, nil)
            var groups = [gid_t](repeating: 0, count: Int(max(n, 0)))
            let got = groups.withUnsafeMutableBufferPointer { getgroups(Int32($0.count), $0.baseAddress) }
            return Process(uid: geteuid(), gid: getegid(), groups: got > 0 ? Array(groups.prefix(Int(got))) : [])
        }

        func isMember(of group: gid_t) -> Bool { group == gid || groups.contains(group) }
    }

    /// What is accepted, in one sentence (the end of every refusal).
    public static func accepted(_ process: Process) -> String {
        "a key file must be owned by root or by this user (uid \(process.uid)), writable by nobody but its owner, "
            + "and readable by nobody but its owner and, at most, one of this process's groups "
            + "(0600, 0400, or 0440 with such a group, as a kubelet projects a Secret with fsGroup)"
    }

    /// Why a file of `mode` owned by `owner`:`group` is refused for `process`, or nil when it is accepted.
    public static func refusal(mode: Int, owner: uid_t, group: gid_t, process: Process) -> String? {
        let octal = String(mode & 0o777, radix: 8)
        let fix: String
        let problem: String
        if owner != 0 && owner != process.uid {
            problem = "it is owned by uid \(owner), who can change it"
            fix = "chown it to this user (or root)"
        } else if mode & 0o007 != 0 {
            problem = "others have access to it (mode \(octal))"
            fix = "chmod 600 it"
        } else if mode & 0o020 != 0 {
            problem = "its group can write it (mode \(octal))"
            fix = "chmod 600 it (or 440 for a group the job runs in)"
        } else if mode & 0o050 != 0 && !process.isMember(of: group) {
            problem = "its group (gid \(group)) can read it but this process is not in that group (mode \(octal))"
            fix = "chmod 600 it, or run the job with that group (Kubernetes: fsGroup)"
        } else {
            return nil
        }
        return "\(problem); \(accepted(process)): \(fix)"
    }
}
