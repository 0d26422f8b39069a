import BuildInfo
import Foundation
import Ledger
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The report files, by their `--format` names.
public enum ReportFormat: String, Sendable, CaseIterable, Hashable {
    case html, md, json, csv, prom

    /// The file name written in the report directory.
    public var fileName: String {
        switch self {
        case .html: "report.html"
        case .md: "summary.md"
        case .json: "report.json"
        case .csv: "rejects.csv"
        case .prom: "metrics.prom"
        }
    }

    /// Parses a comma-separated list (`html,md,json`); `all` means every format.
    public static func parseList(_ text: String) throws -> [ReportFormat] {
        var out: [ReportFormat] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !part.isEmpty {
            if part == "all" { return allCases }
            let name = part == "markdown" ? "md" : part == "prometheus" ? "prom" : part
            guard let format = ReportFormat(rawValue: name) else { throw ReportError.unknownFormat(part) }
            if !out.contains(format) { out.append(format) }
        }
        return out
    }
}

/// Writes report files into a directory: the directory is created 0700, every
/// file 0600 (they hold customer ids), each written to a temporary file in the
/// same directory, flushed, then renamed over the old one — a reader (node_exporter,
/// a mail job) never sees half a file.
public struct ReportWriter: Sendable {
    public let directory: String
    /// The build stamped into the reports that do not carry one yet: the binary writing them.
    public var build: Build = .current

    public init(directory: String) {
        self.directory = directory
    }

    /// Renders `data` in each format and writes the files; returns their paths.
    @discardableResult
    public func write(_ data: ReportData, formats: [ReportFormat] = ReportFormat.allCases) throws -> [String] {
        var data = data
        if data.build == nil { data.build = build }
        try prepareDirectory()
        var written: [String] = []
        for format in formats {
            let path = (directory as NSString).appendingPathComponent(format.fileName)
            let text: String
            switch format {
            case .html: text = ReportHTML.render(data)
            case .md: text = ReportMarkdown.render(data)
            case .json: text = ReportJSON.render(data)
            case .csv: text = RejectsCSV.render(data)
            case .prom: text = MetricsProm.render(data, previous: Self.previousFile(path))
            }
            try Self.writeAtomically(text, to: path)
            written.append(path)
        }
        return written
    }

    /// The report being replaced, when it is a regular file of at most 1 MiB: never read through
    /// a symbolic link (a planted link must not feed its values into the new report).
    static func previousFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size <= 1 << 20 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { return nil }
        return String(decoding: bytes[0..<n], as: UTF8.self)
    }

    /// Creates the directory (and parents) with mode 0700.
    func prepareDirectory() throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
            guard isDir.boolValue else { throw ReportError.write(path: directory, reason: "not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            _ = chmod(directory, 0o700)  // not subject to the umask
        } catch {
            throw ReportError.write(path: directory, reason: "\(error.localizedDescription)")
        }
    }

    /// Temp file (0600, same directory) + fsync + rename.
    static func writeAtomically(_ text: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temp = (dir.isEmpty ? "." : dir) + "/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ReportError.write(path: temp, reason: String(cString: strerror(errno))) }
        var ok = true
        var reason = ""
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc_write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false; reason = String(cString: strerror(errno)); return
                }
                offset += n
            }
        }
        if ok && fchmod(fd, 0o600) != 0 { ok = false; reason = String(cString: strerror(errno)) }
        if ok && fsync(fd) != 0 { ok = false; reason = String(cString: strerror(errno)) }
        _ = close(fd)
        guard ok, rename(temp, path) == 0 else {
            if ok { reason = String(cString: strerror(errno)) }
            _ = unlink(temp)
            throw ReportError.write(path: path, reason: reason)
        }
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
