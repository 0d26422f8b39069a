import CashierModel

/// Streams the records of one batch file, whatever its format, with memory bounded by
/// one chunk and one record (a 2 GB batch does not need 2 GB).
public struct BatchReader: Sendable {
    public let path: String
    public let format: BatchFormat

    /// Opens `path` and detects its format (magic bytes, extension, content).
    public init(path: String) throws(BatchError) {
        self.path = path
        self.format = try BatchFormat.detect(path: path)
    }

    public init(path: String, format: BatchFormat) {
        self.path = path
        self.format = format
    }

    /// Calls `body` with every record in file order. Throws `BatchError` when the file
    /// as a whole is unusable (records before the error have already been delivered).
    public func forEachRecord(_ body: (RawRecord) throws -> Void) throws {
        try forEachByteRecord { try body($0.rawRecord()) }
    }

    /// Calls `body` with every record in file order as byte spans in the read buffer
    /// (valid only during the call; `rawRecord()` makes the Strings when needed).
    public func forEachByteRecord(_ body: (inout ByteRecord) throws -> Void) throws {
        if format.gzip {
            var source = ReadAheadByteSource(try GzipByteSource(path: path))
            try read(&source, body)
        } else {
            // read(2) on a second thread too: page-cache misses overlap with parsing.
            var source = ReadAheadByteSource(try FileByteSource(path: path))
            try read(&source, body)
        }
    }

    private func read(_ source: inout some ByteSource, _ body: (inout ByteRecord) throws -> Void) throws {
        switch format.syntax {
        case .csv: try CSVBatchReader(path: path).read(from: &source, body: body)
        case .jsonLines: try JSONLinesBatchReader(path: path).read(from: &source, body: body)
        }
    }
}
