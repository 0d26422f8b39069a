import CashierModel

/// Streams the records of one batch file, whatever its format, with memory bounded by
/// one chunk and one record (a 2 GB batch does not need 2 GB).
public struct BatchReader: Sendable {
    public let file: BatchFile
    public var path: String { file.path }
    public let format: BatchFormat

    /// Opens `path` and detects its format (magic bytes, extension, content).
    public init(path: String) throws(BatchError) {
        try self.init(file: BatchFile(path: path))
    }

    /// Reads an opened file (its format detected from it).
    public init(file: BatchFile) throws(BatchError) {
        self.file = file
        self.format = try BatchFormat.detect(file)
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
            var source = ReadAheadByteSource(try GzipByteSource(file: file))
            try read(&source, body)
        } else {
            // read(2) on a second thread too: page-cache misses overlap with parsing.
            var source = ReadAheadByteSource(file.bytes())
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
