#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib

/// A stream of bytes read in chunks: a plain file, or zlib inflating one.
/// `read` returns 0 only at the true end of the data.
public protocol ByteSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(BatchError) -> Int
}

/// Reads a file with `read(2)`, never more than one buffer in memory.
public final class FileByteSource: ByteSource {
    public let path: String
    private let fd: Int32

    public init(path: String) throws(BatchError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw BatchError(.unreadable, path: path, detail: "cannot open: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw BatchError(.unreadable, path: path, detail: "is a directory")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(BatchError) -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw BatchError(.unreadable, path: path, detail: "read failed: \(String(cString: strerror(errno)))")
        }
    }

    /// The first `count` bytes of the file (fewer if it is shorter), for format sniffing.
    public static func peek(path: String, count: Int) throws(BatchError) -> [UInt8] {
        let source = try FileByteSource(path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < count {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return Array(buffer[0..<filled])
    }

    /// SHA-256 of the file's bytes, as lower-case hex.
    public static func sha256(path: String) throws(BatchError) -> String {
        let source = try FileByteSource(path: path)
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

    public init(path: String) throws(BatchError) {
        file = try FileByteSource(path: path)
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
