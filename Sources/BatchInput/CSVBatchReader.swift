import CashierModel

/// Reads a CSV batch: the header names the columns (any order, the names of `Field`),
/// each following record becomes a `RawRecord`. An empty cell is an absent value.
/// An unknown, duplicated or missing required column is an error for the whole file:
/// a typo in a header must not silently drop money.
struct CSVBatchReader {
    let path: String

    func read(from source: inout some ByteSource, body: (RawRecord) throws -> Void) throws {
        var tokenizer = CSVTokenizer()
        var columns: [Field]? = nil
        var record = RawRecord(line: 0)
        let path = self.path

        func handle(_ t: inout CSVTokenizer) throws {
            guard let columns else {
                columns = try Self.header(t, path: path)
                return
            }
            record.reset(line: t.recordLine)
            for problem in t.problems { record.readIssues.append(FieldIssue(field: "row", message: problem)) }
            if t.cellCount != columns.count {
                record.readIssues.append(FieldIssue(field: "row", message: "has \(t.cellCount) cells but the header has \(columns.count)"))
            }
            t.bytes.withUnsafeBufferPointer { buffer in
                for index in 0..<min(t.cellCount, columns.count) {
                    let range = t.cell(index)
                    if range.isEmpty { continue }
                    let slice = UnsafeBufferPointer(rebasing: buffer[range])
                    if let text = String(validating: slice, as: UTF8.self) {
                        record.values[columns[index].rawValue] = .text(text)
                    } else {
                        record.readIssues.append(FieldIssue(field: columns[index].name, message: "is not valid UTF-8"))
                    }
                }
            }
            try body(record)
        }

        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var first = true
        while true {
            let n: Int
            do { n = try source.read(into: chunk) } catch var error {
                error.lastCompleteLine = tokenizer.completeLines
                throw error
            }
            if n == 0 { break }
            var start = 0
            if first {
                first = false
                if n >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { start = 3 }  // UTF-8 BOM
            }
            let bytes = UnsafeBufferPointer(start: chunk.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, count: n - start)
            try tokenizer.feed(bytes, path: path, emit: handle)
        }
        try tokenizer.finish(path: path, emit: handle)
        if columns == nil {
            throw BatchError(.badHeader, path: path, lastCompleteLine: 0, detail: "the file is empty: a CSV batch needs a header row")
        }
    }

    static func header(_ t: CSVTokenizer, path: String) throws -> [Field] {
        var fields: [Field] = []
        var unknown: [String] = []
        var seen = Set<Field>()
        try t.bytes.withUnsafeBufferPointer { buffer in
            for index in 0..<t.cellCount {
                guard let name = String(validating: UnsafeBufferPointer(rebasing: buffer[t.cell(index)]), as: UTF8.self) else {
                    throw BatchError(.badHeader, path: path, lastCompleteLine: 0, detail: "line \(t.recordLine): header cell \(index + 1) is not valid UTF-8")
                }
                let trimmed = name.trimmingSpaces
                guard let field = Field(name: trimmed) else { unknown.append(trimmed); continue }
                if !seen.insert(field).inserted {
                    throw BatchError(.badHeader, path: path, lastCompleteLine: 0, detail: "line \(t.recordLine): column \(trimmed) appears twice")
                }
                fields.append(field)
            }
        }
        if !unknown.isEmpty {
            let list = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
            throw BatchError(.badHeader, path: path, lastCompleteLine: 0,
                             detail: "line \(t.recordLine): unknown column\(unknown.count == 1 ? "" : "s") \(list); known columns: \(Field.allCases.map(\.name).joined(separator: ", "))")
        }
        let missing = Field.required.filter { !seen.contains($0) }
        if !missing.isEmpty {
            throw BatchError(.badHeader, path: path, lastCompleteLine: 0,
                             detail: "line \(t.recordLine): required column\(missing.count == 1 ? "" : "s") \(missing.map(\.name).joined(separator: ", ")) missing from the header")
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
