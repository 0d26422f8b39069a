#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Ledger

/// One run per ledger at a time: an exclusive `flock(2)` on `<ledger>.lock`, beside the file
/// the `--db` path leads to (``LedgerLocation``), so every name of a ledger takes one lock.
///
/// The kernel releases the lock when its process dies, however it dies (`kill -9`
/// included), so a lock left by a crashed run is recovered by the next run without a
/// human; the file itself is left in place and holds the owner's pid for people. The lock
/// file is opened without following a symbolic link and written only when it is a plain file
/// with no other name, so a link planted there cannot make the job overwrite another file.
public final class RunLock {
    public let path: String
    private var fd: Int32

    /// Another live process holds the lock (exit 75).
    public struct Held: Error, CustomStringConvertible {
        public var path: String
        public var ownerPID: String
        public var description: String { "another run holds the ledger lock \(path) (pid \(ownerPID))" }
    }

    /// Takes the lock at once or throws `Held`; never waits. A path that cannot be a ledger's
    /// (``LedgerLocation``) or a lock that is a link throws ``LedgerFault``.
    public init(ledgerPath: String) throws {
        let file = try LedgerLocation.resolve(ledgerPath)
        path = file + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            if errno == ELOOP { throw LedgerFault(path: file, cause: .lockNotPlain, detail: "a symbolic link") }
            throw LockFileError(path: path, errno: errno)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink == 1 else {
            close(fd)
            throw LedgerFault(path: file, cause: .lockNotPlain, detail: "\(info.st_nlink) names")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let owner = Self.readOwner(fd)
            close(fd)
            throw Held(path: path, ownerPID: owner)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Releases the lock (also released when the process exits).
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }

    private static func readOwner(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, 31, 0)
        guard n > 0 else { return "unknown" }
        return String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: "\n ")
    }
}

/// The lock file could not be opened.
public struct LockFileError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot open lock file \(path): \(String(cString: strerror(errno)))" }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
