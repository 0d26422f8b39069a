#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CashierModel

/// Reads a JSON Lines batch: one object per line with the fields of `Field` nested by
/// their dot paths (`{"depositLimits":{"minimum":10}, "deposit":{"amounts":[10,20]}}`).
/// Money may be a JSON number or a decimal string; blank lines are skipped; an unknown
/// key, a duplicate key or a malformed line rejects that row only.
struct JSONLinesBatchReader {
    let path: String
    static let maxLineBytes = 64 << 20

    /// Objects that group fields; anything else that is an object is refused.
    static let groups: Set<String> = ["depositLimits", "deposit", "deposit.customAmount", "deposit.amountLimits"]

    func read(from source: inout some ByteSource, body: (inout ByteRecord) throws -> Void) throws {
        var carry: [UInt8] = []
        var line = 0          // lines completely consumed
        var record = ByteRecord()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var first = true

        func handle(_ bytes: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws {
            guard let base = bytes.baseAddress else { return }
            var count = bytes.count
            if count > 0, base[count - 1] == 0x0D { count -= 1 }
            if count == 0 || base[0] == 0x20 || base[0] == 0x09 {
                var blank = true
                for i in 0..<count where base[i] != 0x20 && base[i] != 0x09 { blank = false; break }
                if blank { return }
            }
            record.reset(line: lineNumber, base: base)
            if !JSONFlatScanner.scan(base, count, into: &record) {
                record.reset(line: lineNumber, base: base)
                var raw = RawRecord(line: lineNumber)
                Self.fill(&raw, from: UnsafeBufferPointer(start: base, count: count))
                record.slow = raw
            }
            try body(&record)
        }

        while true {
            let n: Int
            do { n = try source.read(into: chunk) } catch var error {
                error.lastCompleteLine = line
                throw error
            }
            if n == 0 { break }
            var start = 0
            if first {
                first = false
                if n >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF { start = 3 }
            }
            let bytes = UnsafeBufferPointer(start: chunk.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, count: n - start)
            var lineStart = 0
            var i = 0
            while let newline = Self.findNewline(bytes, from: i) {
                if carry.isEmpty {
                    try handle(UnsafeBufferPointer(rebasing: bytes[lineStart..<newline]), lineNumber: line + 1)
                } else {
                    carry.append(contentsOf: bytes[lineStart..<newline])
                    try carry.withUnsafeBufferPointer { try handle($0, lineNumber: line + 1) }
                    carry.removeAll(keepingCapacity: carry.capacity <= 1 << 20)
                }
                line += 1
                i = newline + 1
                lineStart = i
            }
            if lineStart < bytes.count {
                carry.append(contentsOf: bytes[lineStart...])
                if carry.count > Self.maxLineBytes {
                    throw BatchError(.malformed, path: path, lastCompleteLine: line,
                                     detail: "line \(line + 1) is longer than \(Self.maxLineBytes >> 20) MiB")
                }
            }
        }
        if !carry.isEmpty {
            try carry.withUnsafeBufferPointer { try handle($0, lineNumber: line + 1) }
        }
    }

    @inline(__always)
    static func findNewline(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, bytes.count - start) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// Parses one line into the record, collecting every problem.
    static func fill(_ record: inout RawRecord, from bytes: UnsafeBufferPointer<UInt8>) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            record.unreadable = true
            record.readIssues.append(FieldIssue(field: "row", message: error.description))
            return
        }
        guard case let .object(members) = value else {
            record.unreadable = true
            record.readIssues.append(FieldIssue(field: "row", message: "must be a JSON object, not \(value.kindDescription)"))
            return
        }
        flatten(members, prefix: "", into: &record)
    }

    static func flatten(_ members: [JSONMember], prefix: String, into record: inout RawRecord) {
        var seen = Set<String>()
        for member in members {
            let path = prefix.isEmpty ? member.key : prefix + "." + member.key
            if !seen.insert(member.key).inserted {
                record.readIssues.append(FieldIssue(field: path, message: "appears twice in the object"))
                continue
            }
            if groups.contains(path) {
                switch member.value {
                case let .object(inner): flatten(inner, prefix: path, into: &record)
                case .null: continue
                default: record.readIssues.append(FieldIssue(field: path, message: "must be an object, not \(member.value.kindDescription)"))
                }
                continue
            }
            guard let field = Field(name: path) else {
                record.readIssues.append(FieldIssue(field: path, message: "unknown field"))
                continue
            }
            switch member.value {
            case .null: continue
            case let .string(text): record[field] = .text(text)
            case let .number(literal): record[field] = .number(literal)
            case let .array(items) where field == .depositAmounts:
                record[field] = .list(items.map { item in
                    switch item {
                    case let .string(text): .text(text)
                    case let .number(literal): .number(literal)
                    default: .unexpected(kind: item.kindDescription)
                    }
                })
            default:
                record.readIssues.append(FieldIssue(field: path, message: "must be \(field == .depositAmounts ? "an array of amounts" : "a string or a number"), not \(member.value.kindDescription)"))
            }
        }
    }
}
