import CashierModel

/// Which ``BatchFormat`` a file is in.
extension BatchFormat {
    /// Decides by magic bytes first (gzip is `1f 8b` whatever the name), then by the
    /// extension under any `.gz` (`.csv`, `.jsonl`/`.ndjson`/`.json`), then by the first
    /// meaningful byte of the content (`{` means JSON Lines).
    public static func detect(path: String) throws(BatchError) -> BatchFormat {
        try detect(try BatchFile(path: path))
    }

    /// ``detect(path:)`` on an open file (reads its first bytes, nothing else).
    public static func detect(_ file: BatchFile) throws(BatchError) -> BatchFormat {
        let path = file.path
        let head = try file.head(4)
        let gzip = head.count >= 2 && head[0] == 0x1F && head[1] == 0x8B
        var name = path.lowercased()
        if name.hasSuffix(".gz") { name.removeLast(3) } else if name.hasSuffix(".gzip") { name.removeLast(5) }
        if name.hasSuffix(".csv") || name.hasSuffix(".tsv") { return BatchFormat(syntax: .csv, gzip: gzip) }
        if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") || name.hasSuffix(".json") {
            return BatchFormat(syntax: .jsonLines, gzip: gzip)
        }
        // Sniff the content.
        var first: UInt8?
        let source: any ByteSource = gzip ? try GzipByteSource(file: file) : file.bytes()
        var probe = source
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { buffer.deallocate() }
        let n = (try? probe.read(into: buffer)) ?? 0
        for b in buffer[0..<n] where !(b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0xEF || b == 0xBB || b == 0xBF) {
            first = b
            break
        }
        return BatchFormat(syntax: first == UInt8(ascii: "{") ? .jsonLines : .csv, gzip: gzip)
    }
}
