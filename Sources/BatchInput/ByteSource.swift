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
/// device) is a stream, copied into an unlinked private temporary file (mode 0600) as the
/// first pass reads it, up to its ``StreamCap`` (see ``StreamSpool``).
public final class BatchFile: @unchecked Sendable {
    public let path: String
    /// The regular file, or the stream's temporary copy.
    let fd: Int32
    /// The stream's copy, filled on demand; nil for a regular file.
    let spool: StreamSpool?

    /// Opens `path`; reads nothing yet. A stream is refused once it passes `streamCap`.
    public init(path: String, streamCap: StreamCap = .default) throws(BatchError) {
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
            spool = nil
        case S_IFDIR:
            close(fd)
            throw BatchError(.cannotOpen, path: path, detail: "it is a directory")
        default:
            let spool: StreamSpool
            do { spool = try StreamSpool(stream: fd, path: path, cap: streamCap) } catch {
                close(fd)
                throw error
            }
            self.spool = spool
            self.fd = spool.copy
        }
    }

    deinit { close(fd) }

    /// A fresh reader from the first byte.
    public func bytes() -> FileByteSource { FileByteSource(file: self) }

    /// Up to `buffer.count` bytes from `offset`; 0 only at the end of the data.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: off_t) throws(BatchError) -> Int {
        try spool?.fill(past: offset)
        while true {
            let count = pread(fd, buffer.baseAddress, buffer.count, offset)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw BatchError(.unreadable, path: path, detail: "read failed: \(String(cString: strerror(errno)))")
        }
    }

    /// The first `count` bytes (fewer if the file is shorter), for format sniffing.
    public func head(_ count: Int) throws(BatchError) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), at: off_t(filled))
            if n == 0 { break }
            filled += n
        }
        return Array(buffer[0..<filled])
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
}

/// A stream's copy in an unlinked temporary file (in `$TMPDIR`, else `/tmp`), filled only as far
/// as a reader asks, so the readers' own limits (a record over 64 MiB) stop an endless stream
/// too. Never more than ``StreamCap`` bytes are read or kept: the read that would pass the cap
/// is refused (``BatchError/Kind/tooLarge``) and the stream is closed. An error is kept, and
/// every later read past the copy meets it again.
final class StreamSpool: @unchecked Sendable {
    /// The temporary file's descriptor (closed by the ``BatchFile``).
    let copy: Int32
    let path: String
    let cap: StreamCap
    let directory: String
    private var stream: Int32
    private var length: off_t = 0
    private var ended = false
    private var failure: BatchError?
    private let lock = NSLock()
    private let chunk: UnsafeMutableRawBufferPointer

    /// Takes `stream` (closed when the copy is complete or refused, or with the spool).
    init(stream: Int32, path: String, cap: StreamCap) throws(BatchError) {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/cashier-batch-input-XXXXXX").utf8CString)
        let out = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard out >= 0 else {
            let why = String(cString: strerror(errno))
            throw BatchError(.unreadable, path: path, detail: "cannot spool the stream to \(directory): \(why)")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.copy = out
        self.stream = stream
        self.path = path
        self.cap = cap
        self.directory = directory
        chunk = .allocate(byteCount: 1 << 20, alignment: 16)
    }

    deinit {
        if stream >= 0 { close(stream) }
        chunk.deallocate()
    }

    /// The bytes copied so far.
    var copied: off_t {
        lock.lock()
        defer { lock.unlock() }
        return length
    }

    /// Copies from the stream until the copy holds the byte at `offset`, or the stream ended.
    func fill(past offset: off_t) throws(BatchError) {
        lock.lock()
        defer { lock.unlock() }
        while length <= offset && !ended {
            if let failure { throw failure }
            do { try pull() } catch {
                failure = error
                close(stream)
                stream = -1
                throw error
            }
        }
    }

    /// One read from the stream, appended to the copy: never a byte past the cap.
    private func pull() throws(BatchError) {
        // One byte more than the cap leaves tells a stream that ends at the cap from a longer one.
        let want = Int(min(off_t(chunk.count), off_t(cap.bytes) - length + 1))
        var n: Int
        repeat { n = Glibc.read(stream, chunk.baseAddress, want) } while n < 0 && errno == EINTR
        if n < 0 { throw BatchError(.unreadable, path: path, detail: "read failed: \(String(cString: strerror(errno)))") }
        if n == 0 {
            ended = true
            close(stream)
            stream = -1
            return
        }
        if length + off_t(n) > off_t(cap.bytes) {
            throw BatchError(.tooLarge, path: path, detail: "the stream goes on past \(cap), the cap on a pipe, FIFO or device "
                + "(it is copied to \(directory) as it is read): the batch is refused; raise the cap with "
                + "\(StreamCap.optionName) (default \(StreamCap.default)) or give a regular file")
        }
        var written = 0
        while written < n {
            let w = Glibc.write(copy, chunk.baseAddress! + written, n - written)
            if w < 0, errno == EINTR { continue }
            if w < 0 { throw BatchError(.unreadable, path: path, detail: "cannot spool the stream to \(directory): \(String(cString: strerror(errno)))") }
            written += w
        }
        length += off_t(n)
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
        let count = try file.read(into: buffer, at: offset)
        offset += off_t(count)
        return count
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
