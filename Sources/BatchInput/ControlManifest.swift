#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CashierModel

/// The optional sidecar `<batch>.control.json` in which the operator's platform states
/// what it exported: `{"rows": N, "totals": {"USD": {"balance": "1234.50", …}, …}}`.
/// A batch whose content does not match its manifest is refused before anything is sent.
public struct ControlManifest: Sendable, Equatable {
    public var path: String
    public var rows: Int
    /// Currency code → figure → amount as exact decimal text.
    public var totals: [String: [Figure: String]]

    /// The sidecar path of a batch.
    public static func sidecarPath(for batchPath: String) -> String { batchPath + ".control.json" }

    /// Loads the sidecar of `batchPath`; nil when there is none. A malformed manifest is a batch error.
    public static func load(forBatchAt batchPath: String) throws(BatchError) -> ControlManifest? {
        let path = sidecarPath(for: batchPath)
        guard access(path, F_OK) == 0 else { return nil }
        let bytes = try readAll(path)
        return try parse(bytes, path: path)
    }

    static func readAll(_ path: String) throws(BatchError) -> [UInt8] {
        let source = try FileByteSource(path: path)
        var out: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
            if out.count > 16 << 20 { throw BatchError(.controlManifest, path: path, detail: "control manifest is larger than 16 MiB") }
        }
        return out
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(BatchError) -> ControlManifest {
        func bad(_ detail: String) -> BatchError { BatchError(.controlManifest, path: path, detail: "control manifest: \(detail)") }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw bad(error.description) }
        guard case let .object(members) = json else { throw bad("must be a JSON object") }
        // A key given twice is ambiguous ("the last one wins" would let a second value hide the first).
        func unique(_ members: [JSONMember], in place: String) throws(BatchError) {
            var seen = Set<String>()
            for member in members where !seen.insert(member.key).inserted {
                throw bad("\(place)\"\(member.key)\" is given twice")
            }
        }
        try unique(members, in: "")
        var rows: Int?
        var totals: [String: [Figure: String]] = [:]
        for member in members {
            switch member.key {
            case "rows":
                guard let text = member.value.numberText, let count = Int(text), count >= 0 else {
                    throw bad("\"rows\" must be a whole number ≥ 0")
                }
                rows = count
            case "totals":
                guard case let .object(currencies) = member.value else { throw bad("\"totals\" must be an object keyed by currency") }
                try unique(currencies, in: "totals.")
                for currency in currencies {
                    guard case let .object(figures) = currency.value else { throw bad("totals.\(currency.key) must be an object") }
                    try unique(figures, in: "totals.\(currency.key).")
                    guard !figures.isEmpty else {
                        throw bad("totals.\(currency.key) states no figure: give balance, bonusBalance or pendingPayoutTotal, or leave the currency out")
                    }
                    var byFigure: [Figure: String] = [:]
                    for figure in figures {
                        guard let name = Figure(rawValue: figure.key) else {
                            throw bad("totals.\(currency.key).\(figure.key) is not one of balance, bonusBalance, pendingPayoutTotal")
                        }
                        guard let text = figure.value.stringValue ?? figure.value.numberText else {
                            throw bad("totals.\(currency.key).\(figure.key) must be a decimal string")
                        }
                        byFigure[name] = text
                    }
                    totals[currency.key] = byFigure
                }
            default:
                throw bad("unknown key \"\(member.key)\" (expected rows, totals)")
            }
        }
        guard let rows else { throw bad("\"rows\" is missing") }
        return ControlManifest(path: path, rows: rows, totals: totals)
    }

    /// Compares the manifest with what the batch holds: every record read, and per
    /// currency the exact sums of all records whose currency and figures could be read.
    public func check(rowsRead: Int, totals found: CurrencyTotals) -> ControlCheck {
        var differences: [String] = []
        if rowsRead != rows { differences.append("rows: expected \(rows), found \(rowsRead)") }
        let codes = Set(totals.keys).union(found.byCurrency.keys).sorted()
        for code in codes {
            let expected = totals[code]
            let actual = found.byCurrency[code]
            guard let currency = Currency(code: code) else {
                differences.append("\(code): not an active ISO 4217 currency")
                continue
            }
            for figure in Figure.allCases {
                let foundMinor = actual?[figure] ?? 0
                let foundText = Amount.format(foundMinor, exponent: currency.exponent)
                guard let expectedText = expected?[figure] else {
                    if expected == nil, actual != nil {
                        differences.append("\(code) \(figure.rawValue): expected nothing (currency absent from the manifest), found \(foundText)")
                    }
                    continue
                }
                switch Amount.parse(expectedText[...], exponent: currency.exponent) {
                case let .failure(error):
                    differences.append("\(code) \(figure.rawValue): manifest value \"\(expectedText)\" \(error.message(currency: code))")
                case let .success(amount):
                    if Int128(amount.minorUnits) != foundMinor {
                        differences.append("\(code) \(figure.rawValue): expected \(amount), found \(foundText)")
                    }
                }
            }
        }
        return ControlCheck(manifestPath: path, differences: differences)
    }
}

/// The verdict of a control manifest: matched, or the list of expected-vs-found lines.
public struct ControlCheck: Sendable, Equatable {
    public var manifestPath: String
    public var differences: [String]
    public var matched: Bool { differences.isEmpty }
}
