#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import Foundation

/// A stream of bytes read in chunks: a plain file, or zlib inflating one.
/// `read` returns 0 only at the true end of the data.
public protocol ByteSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(BatchError) -> Int
}

/// An input file opened once: every pass over it (hash, format sniffing, reading) reads the
/// same open file, so a pipe or a process substitution (`<(zcat night.gz)`) works like a file.
/// A regular file is read in place with `pread(2)`; anything else (a FIFO, a pipe, a character
/// device) is copied once into an unlinked private temporary file (mode 0600) as it is opened.
public final class BatchFile: @unchecked Sendable {
    public let path: String
    let fd: Int32

    public init(path: String) throws(BatchError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BatchError(.cannotOpen, path: path, detail: String(cString: strerror(errno)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw BatchError(.cannotOpen, path: path, detail: why)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            self.fd = fd
        case S_IFDIR:
            close(fd)
            throw BatchError(.cannotOpen, path: path, detail: "it is a directory")
        default:
            defer { close(fd) }
            self.fd = try Self.spool(fd, path: path)
        }
    }

    deinit { close(fd) }

    /// A fresh reader from the first byte.
    public func bytes() -> FileByteSource { FileByteSource(file: self) }

    /// The first `count` bytes (fewer if the file is shorter), for format sniffing.
    public func head(_ count: Int) throws(BatchError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, count - filled, off_t(filled)) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw BatchError(.unreadable, path: path, detail: "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            filled += n
        }
        return Array(bytes[0..<filled])
    }

    /// SHA-256 of the file's bytes, as lower-case hex.
    public func sha256() throws(BatchError) -> String {
        let source = bytes()
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { break }
            hash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hash.hexDigest()
    }

    /// Copies a stream into an unlinked temporary file and returns that file's descriptor.
    private static func spool(_ input: Int32, path: String) throws(BatchError) -> Int32 {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/cashier-batch-input-XXXXXX").utf8CString)
        let out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard out >= 0 else {
            throw BatchError(.unreadable, path: path, detail: "cannot spool the stream to \(directory): \(String(cString: strerror(errno)))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = Glibc.read(input, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            if n < 0 {
                let why = String(cString: strerror(errno))
                close(out)
                throw BatchError(.unreadable, path: path, detail: "read failed: \(why)")
            }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = Glibc.write(out, buffer.baseAddress! + written, n - written)
                if w < 0, errno == EINTR { continue }
                if w < 0 {
                    let why = String(cString: strerror(errno))
                    close(out)
                    throw BatchError(.unreadable, path: path, detail: "cannot spool the stream: \(why)")
                }
                written += w
            }
        }
        return out
    }
}

/// Reads a ``BatchFile`` from its first byte with `pread(2)`, never more than one buffer in memory.
public final class FileByteSource: ByteSource {
    public let file: BatchFile
    public var path: String { file.path }
    private var offset: off_t = 0

    public init(file: BatchFile) {
        self.file = file
    }

    /// Opens `path` (once) and reads it from the start.
    public convenience init(path: String) throws(BatchError) {
        self.init(file: try BatchFile(path: path))
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(BatchError) -> Int {
        while true {
            let count = pread(file.fd, buffer.baseAddress, buffer.count, offset)
            if count >= 0 {
                offset += off_t(count)
                return count
            }
            if errno == EINTR { continue }
            throw BatchError(.unreadable, path: path, detail: "read failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Inflates a gzip file through the system zlib, streaming, member after member
/// (`cat a.gz b.gz` is one valid stream). A stream that ends before its last member's
/// trailer, or that fails its CRC, is an error — never a shorter file.
public final class GzipByteSource: ByteSource {
    private let file: FileByteSource
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var inputEOF = false
    private var memberEnded = false
    private var finished = false

    public convenience init(path: String) throws(BatchError) {
        try self.init(file: BatchFile(path: path))
    }

    public init(file batch: BatchFile) throws(BatchError) {
        file = batch.bytes()
        let path = batch.path
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 256 * 1024, alignment: 16)
        // 15 + 16: a gzip wrapper, the largest window.
        let status = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw BatchError(.unreadable, path: path, detail: "zlib could not start (code \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    private func refill() throws(BatchError) {
        let n = try file.read(into: input)
        if n == 0 { inputEOF = true }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
    }

    /// Error details carry no line: the reader adds the last complete line it saw.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(BatchError) -> Int {
        if finished { return 0 }
        stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(buffer.count)
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !inputEOF { try refill() }
            if memberEnded {
                // Another member follows, or this is the end of the data.
                if stream.pointee.avail_in == 0 && inputEOF { finished = true; break }
                if stream.pointee.avail_in == 0 { continue }
                inflateReset(stream)
                memberEnded = false
            }
            if stream.pointee.avail_in == 0 && inputEOF {
                throw BatchError(.truncatedCompression, path: file.path,
                                 detail: "gzip stream is truncated: it ends in the middle of a member")
            }
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: needs more input (handled above) or more output space.
                if stream.pointee.avail_out == 0 { break }
                continue
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "code \(status)"
                throw BatchError(.corruptCompression, path: file.path, detail: "gzip stream is corrupt: \(message)")
            }
        }
        return buffer.count - Int(stream.pointee.avail_out)
    }
}
