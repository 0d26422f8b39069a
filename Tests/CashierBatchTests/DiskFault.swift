#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A real storage fault for a child process's ledger: a small tmpfs that the test fills
/// (where the test may mount one, as root), or else a file-size limit (`RLIMIT_FSIZE`)
/// lowered on the running child, so that every write past the first page fails with EFBIG.
/// Either way SQLite sees the error from the kernel; nothing is simulated in the job.
final class DiskFault {
    enum Kind: String, CaseIterable, Sendable { case tmpfs, fileSizeLimit }

    /// The faults this test process can cause: a tmpfs needs root (and a mount the sandbox allows).
    static var available: [Kind] { getuid() == 0 ? [.tmpfs, .fileSizeLimit] : [.fileSizeLimit] }

    let kind: Kind
    /// The directory the ledger goes into.
    let directory: String
    private var filler: String { directory + "/filler" }

    /// For `.tmpfs`, mounts a tmpfs of `megabytes` on a fresh directory inside `dir` (falling back
    /// to the file-size limit when the mount is refused); for `.fileSizeLimit`, a plain directory.
    init(in dir: TempDir, megabytes: Int, kind wanted: Kind) throws {
        directory = dir.path("disk")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/usr/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0700", "tmpfs", directory]
        mount.standardOutput = FileHandle.nullDevice
        mount.standardError = FileHandle.nullDevice
        var mounted = false
        if wanted == .tmpfs, getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/mount") {
            try mount.run()
            mount.waitUntilExit()
            mounted = mount.terminationStatus == 0
        }
        kind = mounted ? .tmpfs : .fileSizeLimit
    }

    deinit {
        if kind == .tmpfs {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/usr/bin/umount")
            umount.arguments = ["-l", directory]
            try? umount.run()
            umount.waitUntilExit()
        }
    }

    /// Makes the next write of `pid` to the ledger fail: fills the tmpfs to the last byte,
    /// or limits the child's file size to one page.
    func strike(pid: Int32) throws {
        switch kind {
        case .tmpfs:
            let fd = open(filler, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            guard fd >= 0 else { throw CLIError(message: "cannot create \(filler)") }
            defer { close(fd) }
            var chunk = [UInt8](repeating: 0, count: 4096)
            while chunk.withUnsafeMutableBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        case .fileSizeLimit:
            // util-linux's prlimit(1): prlimit(2) is a GNU extension Glibc's module does not export.
            let prlimit = Process()
            prlimit.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            prlimit.arguments = ["--pid", "\(pid)", "--fsize=4096:4096"]
            try prlimit.run()
            prlimit.waitUntilExit()
            guard prlimit.terminationStatus == 0 else { throw CLIError(message: "prlimit --pid \(pid) --fsize failed") }
        }
    }

    /// Gives the space back (a new process has no file-size limit anyway).
    func heal() {
        try? FileManager.default.removeItem(atPath: filler)
    }
}
