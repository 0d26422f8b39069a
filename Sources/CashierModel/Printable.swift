/// Text from outside (a batch's cells and keys, an API answer) made safe to print: control
/// characters are shown escaped, so a batch cannot send a terminal an escape sequence, and a
/// long value is cut, so a 50 MB cell cannot become a 50 MB message.
public enum Printable {
    /// How many characters of one value a message shows.
    public static let valueLimit = 200

    /// `text` with C0/C1 controls, DEL, line and paragraph separators and bidirectional
    /// overrides written as `\n`, `\t`, `\r` or `\u{1B}`, cut to `limit` characters with "…".
    /// Idempotent: what it returns contains nothing it would escape.
    public static func text(_ text: some StringProtocol, limit: Int = valueLimit) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "…"
                return out
            }
            count += 1
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whole lines for a terminal or a log file: every control character but the line break
    /// escaped as ``text(_:limit:)`` does, nothing cut.
    public static func lines(_ text: String) -> String {
        // Plain ASCII, the common case, is returned as it is.
        if text.utf8.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A }) { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { Self.text($0, limit: .max) }.joined(separator: "\n")
    }

    /// A value in double quotes, escaped and cut as ``text(_:limit:)``.
    public static func quoted(_ value: some StringProtocol, limit: Int = valueLimit) -> String {
        "\"" + text(value, limit: limit) + "\""
    }
}
