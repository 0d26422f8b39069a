#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CashierModel

/// Reads a CSV batch: the header names the columns (any order, the names of `Field`),
/// each following record becomes a `ByteRecord` whose cells point into the read buffer.
/// An empty cell is an absent value. An unknown, duplicated or missing required column
/// is an error for the whole file: a typo in a header must not silently drop money.
///
/// RFC 4180: quoted fields with commas, doubled quotes and newlines; LF or CRLF. The
/// buffer holds whole records: a record cut by the end of the buffer is moved to its
/// front and scanned again after the next read (the buffer doubles for a record larger
/// than itself, up to `maxRecordBytes`). Quoted cells are unescaped in place once their
/// record is complete. Physical lines are counted so a record is reported at the line
/// where it starts.
///
/// `rejects.csv` (written by the reports) is a batch too: its annotation columns
/// `reason` and `attempts` are ignored, and in a file that has them a cell made of
/// one or more `'` followed by `=`, `+`, `-`, `@`, tab or CR loses exactly one leading
/// `'` (the writer added it against spreadsheet formula injection), so every value,
/// money included, is read back exactly as it was first read. Other files are read unchanged.
struct CSVBatchReader {
    let path: String

    /// Largest record accepted: a bigger one is a file error, so memory stays bounded.
    static let maxRecordBytes = 64 << 20
    static let chunkBytes = 1 << 20

    struct Cell {
        var start: Int
        var end: Int
        var quoted: Bool
    }

    /// The scan of one record: its cells (raw ranges), its problems, the newlines it holds.
    struct RecordScan {
        var cells: [Cell] = []
        var problems: [String] = []
        var newlines = 0
        /// The record ended with the data rather than with a line feed.
        var endedByEOF = false

        init() { cells.reserveCapacity(32) }

        mutating func clear() {
            cells.removeAll(keepingCapacity: true)
            if !problems.isEmpty { problems.removeAll() }
            newlines = 0
            endedByEOF = false
        }

        /// A blank line (one empty cell, no problem) is skipped; an empty quoted cell
        /// (`""`) followed by a line feed is a record. Checked after unescaping.
        var isBlank: Bool {
            cells.count == 1 && cells[0].start == cells[0].end && problems.isEmpty && (!cells[0].quoted || endedByEOF)
        }
    }

    enum ScanEnd { case incomplete, unclosedQuote, record(next: Int) }

    static let strayQuote = "a double quote inside an unquoted field (quote the whole field and double the quote)"
    static let textAfterQuote = "text after the closing quote of a quoted field"

    /// Scans the record starting at `start` without changing a byte. `final`: the data
    /// ends at `end` (the end terminates the record) rather than continuing after a read.
    static func scan(_ p: UnsafeMutablePointer<UInt8>, from start: Int, to end: Int, final: Bool, into s: inout RecordScan) -> ScanEnd {
        s.clear()
        var i = start
        while true {
            let cellStart = i
            if i < end, p[i] == 0x22 {
                // Quoted: up to the closing quote (a doubled quote is a literal one).
                i += 1
                while true {
                    while i < end, p[i] != 0x22 {
                        if p[i] == 0x0A { s.newlines += 1 }
                        i += 1
                    }
                    if i == end { return final ? .unclosedQuote : .incomplete }
                    i += 1  // the quote
                    if i < end, p[i] == 0x22 { i += 1; continue }
                    if i == end && !final { return .incomplete }
                    break
                }
                // Closed: a delimiter, CRs (of a CRLF), or text after the closing quote.
                var afterText = false
                while i < end {
                    let b = p[i]
                    if b == 0x2C || b == 0x0A { break }
                    if afterText {
                        if b == 0x22 && s.problems.isEmpty { s.problems.append(strayQuote) }
                    } else if b != 0x0D {
                        afterText = true
                        s.problems.append(textAfterQuote)
                    }
                    i += 1
                }
                s.cells.append(Cell(start: cellStart, end: i, quoted: true))
            } else {
                // Unquoted: up to ',' or LF; a stray quote is kept and reported.
                while i < end {
                    let b = p[i]
                    if b == 0x2C || b == 0x0A { break }
                    if b == 0x22 && s.problems.isEmpty { s.problems.append(strayQuote) }
                    i += 1
                }
                var cellEnd = i
                if cellEnd > cellStart, p[cellEnd - 1] == 0x0D { cellEnd -= 1 }  // the CR of a CRLF
                s.cells.append(Cell(start: cellStart, end: cellEnd, quoted: false))
            }
            if i == end {
                guard final else { return .incomplete }
                s.endedByEOF = true
                return .record(next: end)
            }
            if p[i] == 0x0A {
                s.newlines += 1
                return .record(next: i + 1)
            }
            i += 1  // ','
        }
    }

    /// Rewrites a quoted cell's content in place (it only ever shrinks); returns its end.
    static func unescape(_ p: UnsafeMutablePointer<UInt8>, _ cell: Cell) -> Int {
        var r = cell.start + 1
        var w = cell.start
        var state = 0  // 0 quoted, 1 after a quote, 2 closed, 3 unquoted text after the closing quote
        while r < cell.end {
            let b = p[r]
            switch state {
            case 0:
                if b == 0x22 { state = 1 } else { p[w] = b; w += 1 }
                r += 1
            case 1:
                if b == 0x22 { p[w] = 0x22; w += 1; state = 0; r += 1 } else { state = 2 }
            case 2:
                if b != 0x0D { p[w] = b; w += 1; state = 3 }
                r += 1
            default:
                p[w] = b; w += 1
                r += 1
            }
        }
        return w
    }

    func read(from source: inout some ByteSource, body: (inout ByteRecord) throws -> Void) throws {
        var capacity = Self.chunkBytes
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0
        var pos = 0
        var eof = false
        var first = true
        var line = 1  // the physical line at `pos`
        var columns: [Field?]? = nil
        var guarded = false  // a rejects file: strip the formula guard
        var scan = RecordScan()
        var record = ByteRecord()

        while true {
            while pos < filled {
                let recordLine = line
                switch Self.scan(buffer, from: pos, to: filled, final: eof, into: &scan) {
                case .incomplete:
                    break
                case .unclosedQuote:
                    throw BatchError(.malformed, path: path, lastCompleteLine: recordLine - 1,
                                     detail: "the quoted field of the record starting at line \(recordLine) is never closed; the rest of the file would be inside it")
                case let .record(next):
                    pos = next
                    line += scan.newlines
                    for index in scan.cells.indices where scan.cells[index].quoted {
                        scan.cells[index].end = Self.unescape(buffer, scan.cells[index])
                    }
                    if scan.isBlank { continue }
                    guard let columns else {
                        columns = try header(buffer, scan, line: recordLine)
                        guarded = columns!.contains { $0 == nil }
                        continue
                    }
                    record.reset(line: recordLine, base: UnsafePointer(buffer))
                    for problem in scan.problems { record.readIssues.append(FieldIssue(field: "row", message: problem)) }
                    if scan.cells.count != columns.count {
                        record.readIssues.append(FieldIssue(field: "row", message: "has \(scan.cells.count) cells but the header has \(columns.count)"))
                    }
                    let count = min(scan.cells.count, columns.count)
                    scan.cells.withUnsafeBufferPointer { cells in
                        columns.withUnsafeBufferPointer { columns in
                            for index in 0..<count {
                                let cell = cells[index]
                                guard let field = columns[index] else { continue }  // annotation column
                                var start = cell.start
                                if guarded, Self.hasFormulaGuard(buffer, cell) { start += 1 }
                                if cell.end > start {
                                    record.set(field, ValueSpan(kind: .text, start: start, end: cell.end))
                                }
                            }
                        }
                    }
                    try body(&record)
                    continue
                }
                break
            }
            if eof { break }
            // Keep the unfinished record, then fill the buffer up.
            if pos > 0 {
                if filled > pos { memmove(buffer, buffer + pos, filled - pos) }
                filled -= pos
                pos = 0
            }
            if filled == capacity {
                guard capacity < Self.maxRecordBytes else {
                    throw BatchError(.malformed, path: path, lastCompleteLine: line - 1,
                                     detail: "the record starting at line \(line) is larger than \(Self.maxRecordBytes >> 20) MiB")
                }
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                bigger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            while filled < capacity {
                let n: Int
                do {
                    n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + filled, count: capacity - filled))
                } catch var error {
                    error.lastCompleteLine = line - 1
                    throw error
                }
                if n == 0 { eof = true; break }
                if first {
                    first = false
                    if n >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { pos = 3 }  // UTF-8 BOM
                }
                filled += n
            }
        }
        if columns == nil {
            throw BatchError(.badHeader, path: path, lastCompleteLine: 0, detail: "the file is empty: a CSV batch needs a header row")
        }
    }

    /// Columns of `rejects.csv` that annotate a row and are not batch data.
    static let annotationColumns: Set<String> = ["reason", "attempts"]

    /// `'`+ followed by `=`, `+`, `-`, `@`, tab or CR: the writer's guard against formula injection.
    static func hasFormulaGuard(_ p: UnsafeMutablePointer<UInt8>, _ cell: Cell) -> Bool {
        var i = cell.start
        while i < cell.end, p[i] == 0x27 { i += 1 }
        guard i > cell.start, i < cell.end else { return false }
        switch p[i] {
        case 0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D: return true
        default: return false
        }
    }

    /// The header's columns in order; nil for an annotation column (ignored).
    func header(_ buffer: UnsafeMutablePointer<UInt8>, _ scan: RecordScan, line: Int) throws -> [Field?] {
        var fields: [Field?] = []
        var annotations = Set<String>()
        var unknown: [String] = []
        var seen = Set<Field>()
        for (index, cell) in scan.cells.enumerated() {
            guard let name = String(validating: UnsafeBufferPointer(start: buffer + cell.start, count: cell.end - cell.start), as: UTF8.self) else {
                throw BatchError(.badHeader, path: path, lastCompleteLine: 0, detail: "line \(line): header cell \(index + 1) is not valid UTF-8")
            }
            let trimmed = name.trimmingSpaces
            if Self.annotationColumns.contains(trimmed) {
                if !annotations.insert(trimmed).inserted {
                    throw BatchError(.badHeader, path: path, lastCompleteLine: 0, detail: "line \(line): column \(Printable.text(trimmed)) appears twice")
                }
                fields.append(nil)
                continue
            }
            guard let field = Field(name: trimmed) else { unknown.append(trimmed); continue }
            if !seen.insert(field).inserted {
                throw BatchError(.badHeader, path: path, lastCompleteLine: 0, detail: "line \(line): column \(Printable.text(trimmed)) appears twice")
            }
            fields.append(field)
        }
        if !unknown.isEmpty {
            let shown = unknown.prefix(5).map { Printable.quoted($0, limit: 60) }.joined(separator: ", ")
            let list = shown + (unknown.count > 5 ? " and \(unknown.count - 5) more" : "")
            throw BatchError(.badHeader, path: path, lastCompleteLine: 0,
                             detail: "line \(line): unknown column\(unknown.count == 1 ? "" : "s") \(list); known columns: \(Field.byIndex.map(\.name).joined(separator: ", "))")
        }
        let missing = Field.required.filter { !seen.contains($0) }
        if !missing.isEmpty {
            throw BatchError(.badHeader, path: path, lastCompleteLine: 0,
                             detail: "line \(line): required column\(missing.count == 1 ? "" : "s") \(missing.map(\.name).joined(separator: ", ")) missing from the header")
        }
        return fields
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
