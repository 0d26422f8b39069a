/// Validates the rows of one batch in order: each row by `RowValidator`, plus the
/// batch-wide rule that a (websiteId, customerId, currency) appears only once (later
/// rows with the same key are rejected as duplicates of the first).
///
/// Memory stays flat in the number of rows: keys are remembered as 64-bit SipHash
/// fingerprints (12 bytes per row with the line number). Two different keys share a
/// fingerprint with probability about n²/2⁶⁵ (3·10⁻⁸ for a million rows).
public struct BatchValidator: Sendable {
    private let rows = RowValidator()
    private var seen = FingerprintTable()

    public init() {}

    public mutating func judge(_ record: RawRecord) -> RowVerdict {
        let verdict = rows.validate(record)
        guard case let .valid(row) = verdict else { return verdict }
        let key = row.key
        var hasher = Hasher()
        hasher.combine(key.websiteId)
        hasher.combine(key.customerId)
        hasher.combine(key.currency)
        let fingerprint = UInt64(bitPattern: Int64(hasher.finalize()))
        if let firstLine = seen.insert(fingerprint, line: row.line) {
            return .rejected(line: row.line, issues: [FieldIssue(
                field: "row",
                message: "duplicate of line \(firstLine): websiteId/customerId/currency \(key) appears twice in this batch")])
        }
        return verdict
    }
}

/// An open-addressing set of 64-bit fingerprints with the line that first held each.
struct FingerprintTable: Sendable {
    private var keys: [UInt64] = Array(repeating: 0, count: 1024)
    private var lines: [Int32] = Array(repeating: 0, count: 1024)
    private var count = 0

    /// Inserts; returns the earlier line when the fingerprint was already there.
    mutating func insert(_ fingerprint: UInt64, line: Int) -> Int? {
        let key = fingerprint == 0 ? 1 : fingerprint
        if (count + 1) * 8 > keys.count * 7 { grow() }
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            let existing = keys[slot]
            if existing == 0 {
                keys[slot] = key
                lines[slot] = Int32(clamping: line)
                count += 1
                return nil
            }
            if existing == key { return Int(lines[slot]) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldLines = lines
        keys = Array(repeating: 0, count: oldKeys.count * 2)
        lines = Array(repeating: 0, count: oldKeys.count * 2)
        let mask = keys.count - 1
        for index in oldKeys.indices where oldKeys[index] != 0 {
            var slot = Int(truncatingIfNeeded: oldKeys[index]) & mask
            while keys[slot] != 0 { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[index]
            lines[slot] = oldLines[index]
        }
    }
}
