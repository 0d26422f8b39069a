import CashierModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to stdout or stderr: a million-line `--json` output must not pay a
/// system call per line. One task writes to it at a time (`validate` is sequential), which is
/// why it may be captured by the ledger session's log closure.
final class OutputStream: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    static func standardOutput() -> OutputStream { OutputStream(fd: 1) }
    static func standardError() -> OutputStream { OutputStream(fd: 2) }

    private init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    /// Writes `text` and a line break, its control characters escaped (``Printable/lines(_:)``).
    func line(_ text: String) {
        buffer.append(contentsOf: Printable.lines(text).utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                break  // a closed pipe: nothing more can be said
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
