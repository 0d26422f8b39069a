import CashierModel
import Foundation

/// What a command prints for a person: each line with its control characters escaped
/// (``Printable/lines(_:)``), so a file name, a cell or a server's text cannot drive the
/// terminal or forge a line of the log.
enum Terminal {
    /// A line (or lines) on standard output.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((Printable.lines(text) + "\n").utf8))
    }

    /// A line (or lines) on standard error.
    static func err(_ text: String) {
        FileHandle.standardError.write(Data((Printable.lines(text) + "\n").utf8))
    }
}
