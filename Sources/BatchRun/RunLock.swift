#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One run per ledger at a time: an exclusive `flock(2)` on `<ledger>.lock`.
///
/// The kernel releases the lock when its process dies, however it dies (`kill -9`
/// included), so a lock left by a crashed run is recovered by the next run without a
/// human; the file itself is left in place and holds the owner's pid for people.
public final class RunLock {
    public let path: String
    private var fd: Int32

    /// Another live process holds the lock (exit 75).
    public struct Held: Error, CustomStringConvertible {
        public var path: String
        public var ownerPID: String
        public var description: String { "another run holds the ledger lock \(path) (pid \(ownerPID))" }
    }

    /// Takes the lock at once or throws `Held`; never waits.
    public init(ledgerPath: String) throws {
        path = ledgerPath + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LockFileError(path: path, errno: errno) }
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
