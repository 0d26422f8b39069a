/// Builds JSON text with exact numbers: amounts are written with their digits, never
/// through a floating-point formatter. Used for API bodies, the ledger payload and
/// machine-readable output.
public struct JSONWriter: Sendable {
    public private(set) var text = ""
    private var needsComma: [Bool] = [false]

    public init() {}

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func key(_ name: String?) {
        separator()
        if let name { Self.appendQuoted(name, to: &text); text += ":" }
    }

    public mutating func beginObject(_ name: String? = nil) { key(name); text += "{"; needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); text += "}" }
    public mutating func beginArray(_ name: String? = nil) { key(name); text += "["; needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); text += "]" }

    public mutating func string(_ name: String? = nil, _ value: String) { key(name); Self.appendQuoted(value, to: &text) }
    /// A raw JSON number literal (already validated digits, e.g. an `Amount` description).
    public mutating func number(_ name: String? = nil, literal: String) { key(name); text += literal }
    public mutating func int(_ name: String? = nil, _ value: Int) { key(name); text += String(value) }
    public mutating func bool(_ name: String? = nil, _ value: Bool) { key(name); text += value ? "true" : "false" }
    public mutating func null(_ name: String? = nil) { key(name); text += "null" }

    /// An amount as a JSON number with its exact digits (`10.50`).
    public mutating func amountNumber(_ name: String? = nil, _ value: Amount) { number(name, literal: value.description) }
    /// An amount as a JSON string with its exact digits (`"10.50"`), for reports read by people and spreadsheets.
    public mutating func amountString(_ name: String? = nil, _ value: Amount) { string(name, value.description) }

    /// Writes `value` only when present.
    public mutating func optionalString(_ name: String, _ value: String?) { if let value { string(name, value) } }

    /// Appends a JSON string literal for `value`.
    public static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        var plainStart = value.utf8.startIndex
        var index = plainStart
        let utf8 = value.utf8
        while index != utf8.endIndex {
            let b = utf8[index]
            if b == 0x22 || b == 0x5C || b < 0x20 {
                out += String(value[plainStart..<index])
                switch b {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                default:
                    let hex = String(b, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
                index = utf8.index(after: index)
                plainStart = index
            } else {
                index = utf8.index(after: index)
            }
        }
        out += String(value[plainStart..<index])
        out += "\""
    }
}
