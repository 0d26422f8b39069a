import CashierModel
import Foundation
import Ledger

/// `rejects.csv`: every rejected row with its original cells (`rows.source_json`) and every
/// failed row with its request written back as cells (`rows.request`), plus `reason` and `attempts`.
///
/// Passing the file back to `cashier-batch run` re-imports exactly those rows: the
/// header holds batch columns (the ones any of the rows used, the required ones
/// always) and the two annotation columns, which the CSV reader ignores.
///
/// **Formula injection.** A spreadsheet runs a cell that starts with `=`, `+`, `-`,
/// `@`, tab or CR as a formula. Such a cell — or one that already starts with
/// apostrophes followed by one of those characters — is written with one more
/// leading `'` (which spreadsheets show as "text"). The CSV reader removes exactly
/// one leading `'` from such cells, but only in a file that has the annotation
/// columns (a rejects file), so ordinary batches are read unchanged. The mapping is
/// a bijection: every value, money included, comes back byte for byte — a rejected
/// `-5.00` balance is re-read as `-5.00` and refused again for the same reason,
/// never turned into `5.00` or into text.
public enum RejectsCSV {
    /// The annotation columns appended after the batch columns.
    public static let annotationColumns = ["reason", "attempts"]

    /// Renders the file (RFC 4180, CRLF line ends, UTF-8 without BOM).
    public static func render(_ data: ReportData) -> String {
        let records = data.rejects.map { ($0.cells, $0) }
        var used = Set(Field.required)
        for (record, _) in records {
            for field in Field.allCases where record[field] != nil { used.insert(field) }
        }
        let columns = Field.allCases.filter { used.contains($0) }
        var out = (columns.map(\.name) + annotationColumns).map(cell).joined(separator: ",") + "\r\n"
        for (record, reject) in records {
            var cells = columns.map { field in record[field].map(text) ?? "" }
            cells.append(reject.reasons.map { "\($0.field): \($0.message)" }.joined(separator: "; "))
            cells.append(String(reject.attempts))
            out += cells.map(cell).joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// A raw value as CSV cell text (a JSON list of amounts becomes `a;b;c`, as the CSV reader expects).
    static func text(_ value: RawValue) -> String {
        switch value {
        case let .text(t), let .number(t): t
        case let .list(items): items.map(text).joined(separator: ";")
        case let .unexpected(kind): "<\(kind)>"
        }
    }

    /// Neutralises formula triggers, then quotes when needed.
    static func cell(_ value: String) -> String {
        var v = value
        if needsGuard(v) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || v.hasPrefix(" ") || v.hasSuffix(" ") {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    /// Characters that make a spreadsheet read a cell as a formula.
    static let triggers: Set<UInt8> = [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D]

    /// `'*` followed by a trigger: gets one more `'` (the reader removes exactly one).
    static func needsGuard(_ value: String) -> Bool {
        var utf8 = value.utf8.drop { $0 == UInt8(ascii: "'") }[...]
        guard let first = utf8.popFirst() else { return false }
        return triggers.contains(first)
    }
}
