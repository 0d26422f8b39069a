/// How a batch file is encoded: CSV or JSON Lines, optionally gzip-compressed. The reader
/// detects it, the ledger records it (`batches.format`, `batches.gzip`), the reports show it.
public struct BatchFormat: Hashable, Sendable, CustomStringConvertible {
    public enum Syntax: String, Sendable, CaseIterable { case csv, jsonLines = "jsonl" }

    public var syntax: Syntax
    public var gzip: Bool

    public init(syntax: Syntax, gzip: Bool) {
        self.syntax = syntax
        self.gzip = gzip
    }

    /// Plain CSV and plain JSON Lines.
    public static let csv = BatchFormat(syntax: .csv, gzip: false)
    public static let jsonLines = BatchFormat(syntax: .jsonLines, gzip: false)

    /// `csv`, `jsonl`, `csv+gzip`, `jsonl+gzip`.
    public var description: String { syntax.rawValue + (gzip ? "+gzip" : "") }
}
