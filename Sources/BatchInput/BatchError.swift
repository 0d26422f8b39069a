import CashierModel
/// A problem with a batch file as a whole: it cannot be read, or reading it cannot be
/// trusted (corrupt or truncated gzip, unknown column, control totals that differ).
/// Every such error makes the batch unusable (exit 65); rows already read are not sent.
public struct BatchError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The path cannot be opened at all (missing, a directory, no permission): nothing was read.
        case cannotOpen
        case unreadable, corruptCompression, truncatedCompression, badHeader, malformed, controlManifest
        /// A stream (pipe, FIFO, device) went on past its ``StreamCap``.
        case tooLarge
    }

    public var kind: Kind
    public var path: String
    /// The last line read completely before the problem (0 when none).
    public var lastCompleteLine: Int?
    public var detail: String

    /// The path and the detail are made printable (see ``Printable``).
    public init(_ kind: Kind, path: String, lastCompleteLine: Int? = nil, detail: String) {
        self.kind = kind
        self.path = Printable.text(path, limit: 1_000)
        self.lastCompleteLine = lastCompleteLine
        self.detail = Printable.text(detail, limit: 1_000)
    }

    public var description: String {
        var text = "\(path): \(detail)"
        if let lastCompleteLine { text += " (last complete line: \(lastCompleteLine))" }
        return text
    }
}
