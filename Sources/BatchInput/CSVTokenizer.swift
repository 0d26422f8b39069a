/// An RFC 4180 tokenizer fed in chunks: quoted fields with commas, doubled quotes and
/// newlines; LF or CRLF. It copies each byte of a cell once into the current record's
/// buffer and counts physical lines so a record can be reported at the line it starts.
struct CSVTokenizer {
    enum State { case fieldStart, unquoted, quoted, quoteInQuoted, closed }

    /// Largest record accepted: a bigger one is a file error, so memory stays bounded.
    static let maxRecordBytes = 64 << 20

    private(set) var bytes: [UInt8] = []
    /// End offset of each completed cell in `bytes`.
    private(set) var ends: [Int] = []
    /// Problems of the current record (stray quotes).
    private(set) var problems: [String] = []
    private var state = State.fieldStart
    private var cellQuoted = false
    private var recordStarted = false
    /// The physical line (1-based) being read now.
    private(set) var line = 1
    /// The line where the current record started.
    private(set) var recordLine = 1
    /// Lines completely read (their newline consumed).
    var completeLines: Int { line - 1 }

    init() {
        bytes.reserveCapacity(4096)
        ends.reserveCapacity(32)
    }

    /// Cell `i` of the emitted record as a byte slice.
    func cell(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }
    var cellCount: Int { ends.count }

    private mutating func endCell() {
        if !cellQuoted, let last = bytes.last, last == 0x0D, bytes.count > (ends.last ?? 0) {
            bytes.removeLast()  // the CR of a CRLF
        }
        ends.append(bytes.count)
        cellQuoted = false
        state = .fieldStart
    }

    private mutating func resetRecord() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        if !problems.isEmpty { problems.removeAll() }
        recordStarted = false
        state = .fieldStart
        cellQuoted = false
    }

    /// Whether the record is a blank line (one empty unquoted cell), which is skipped.
    private var isBlank: Bool { ends.count == 1 && ends[0] == 0 && problems.isEmpty }

    /// Feeds a chunk; `emit` is called for every complete record (blank lines skipped).
    mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, path: String, emit: (inout CSVTokenizer) throws -> Void) throws {
        guard let base = chunk.baseAddress else { return }
        let count = chunk.count
        var i = 0
        while i < count {
            if !recordStarted {
                recordStarted = true
                recordLine = line
            }
            let b = base[i]
            switch state {
            case .fieldStart:
                if b == 0x22 {  // "
                    state = .quoted
                    cellQuoted = true
                    i += 1
                    continue
                }
                state = .unquoted
                fallthrough
            case .unquoted:
                // Fast path: copy the run up to the next delimiter.
                var j = i
                while j < count {
                    let c = base[j]
                    if c == 0x2C || c == 0x0A || c == 0x22 { break }
                    j += 1
                }
                if j > i { bytes.append(contentsOf: UnsafeBufferPointer(start: base + i, count: j - i)) }
                i = j
                guard i < count else { break }
                let c = base[i]
                i += 1
                if c == 0x2C {
                    endCell()
                } else if c == 0x0A {
                    endCell()
                    line += 1
                    if !isBlank { try emit(&self) }
                    resetRecord()
                } else {  // a quote inside an unquoted cell: keep it, but say so
                    bytes.append(c)
                    if problems.isEmpty { problems.append("a double quote inside an unquoted field (quote the whole field and double the quote)") }
                }
            case .quoted:
                var j = i
                while j < count {
                    let c = base[j]
                    if c == 0x22 { break }
                    if c == 0x0A { line += 1 }
                    j += 1
                }
                if j > i { bytes.append(contentsOf: UnsafeBufferPointer(start: base + i, count: j - i)) }
                i = j
                if i < count {  // the quote
                    state = .quoteInQuoted
                    i += 1
                }
            case .quoteInQuoted:
                if b == 0x22 {  // a doubled quote is a literal quote
                    bytes.append(0x22)
                    state = .quoted
                    i += 1
                } else {
                    state = .closed
                }
            case .closed:
                i += 1
                if b == 0x2C {
                    endCell()
                } else if b == 0x0A {
                    endCell()
                    line += 1
                    try emit(&self)
                    resetRecord()
                } else if b == 0x0D {
                    continue  // CRLF after a closing quote
                } else {
                    bytes.append(b)
                    state = .unquoted
                    problems.append("text after the closing quote of a quoted field")
                }
            }
            if bytes.count > Self.maxRecordBytes {
                throw BatchError(.malformed, path: path, lastCompleteLine: recordLine - 1,
                                 detail: "the record starting at line \(recordLine) is larger than \(Self.maxRecordBytes >> 20) MiB")
            }
        }
    }

    /// Ends the input: emits a last record without a final newline; an open quote is an error.
    mutating func finish(path: String, emit: (inout CSVTokenizer) throws -> Void) throws {
        guard recordStarted else { return }
        if state == .quoted {
            throw BatchError(.malformed, path: path, lastCompleteLine: recordLine - 1,
                             detail: "the quoted field of the record starting at line \(recordLine) is never closed; the rest of the file would be inside it")
        }
        endCell()
        if !isBlank { try emit(&self) }
        resetRecord()
    }
}
