import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one file a `--db` path names, whatever name reached it: every command opens, creates
/// and locks that file, so two names of one ledger can never run at once.
///
/// Symbolic links are followed (a dangling one to the file it names, which is then created
/// there, 0600). A file with more than one hard link is refused: the job locks by name and
/// SQLite keeps the `-wal` journal beside the name it opened, so a second name would be a
/// second, unlocked ledger of the same rows.
public enum LedgerLocation {
    /// Symbolic links followed before the path is taken as a loop.
    static let maximumLinks = 40

    /// The absolute path of the file `path` leads to (it may not exist yet; its directory may
    /// not either, when the ledger is to be created with its parents).
    public static func resolve(_ path: String) throws(LedgerFault) -> String {
        var current = absolute(path)
        for _ in 0..<maximumLinks {
            var info = stat()
            guard lstat(current, &info) == 0 else {
                guard errno == ENOENT else { throw LedgerFault(path: path, cause: .cannotOpen, detail: String(cString: strerror(errno))) }
                return resolvedParent(of: current)
            }
            guard (info.st_mode & S_IFMT) == S_IFLNK else {
                if (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink > 1 {
                    throw LedgerFault(path: path, cause: .manyNames(links: Int(info.st_nlink)), detail: "")
                }
                return resolvedParent(of: current)
            }
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &target, target.count - 1)
            guard length >= 0 else { throw LedgerFault(path: path, cause: .cannotOpen, detail: String(cString: strerror(errno))) }
            let link = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : directory(of: current) + "/" + link
        }
        throw LedgerFault(path: path, cause: .cannotOpen, detail: "more than \(maximumLinks) symbolic links")
    }

    /// `path` made absolute against the working directory.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }

    static func directory(of path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        return dir.isEmpty ? "/" : dir
    }

    /// The path with its directory's symbolic links resolved, where the directory exists.
    static func resolvedParent(of path: String) -> String {
        let name = (path as NSString).lastPathComponent
        guard let real = realpath(directory(of: path), nil) else { return path }
        defer { free(real) }
        let dir = String(cString: real)
        return (dir == "/" ? "" : dir) + "/" + name
    }
}
