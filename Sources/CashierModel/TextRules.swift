/// Syntax checks on text fields, written against the RFCs rather than Foundation so
/// that they are exact, fast and the same on every platform.
public enum TextRules {
    /// The API's limit for URLs.
    public static let maxURLLength = 2083
    /// The API's limit for ids.
    public static let maxIdLength = 50

    /// Returns a reason when `text` is not an absolute http(s) URI of at most 2083
    /// characters. The `{id}` and `{result}` placeholders are allowed anywhere after the host.
    public static func urlProblem(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.count > maxURLLength { return "must be at most \(maxURLLength) characters (got \(text.unicodeScalars.count))" }
        var index = 0
        // scheme
        while index < bytes.count, isSchemeByte(bytes[index]) { index += 1 }
        let scheme = String(decoding: bytes[0..<index], as: UTF8.self).lowercased()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":"), !scheme.isEmpty else {
            return "must be an absolute URL starting with https:// or http://"
        }
        guard scheme == "https" || scheme == "http" else { return "scheme \(scheme): is not allowed (only http and https)" }
        guard bytes.count >= index + 3, bytes[index + 1] == UInt8(ascii: "/"), bytes[index + 2] == UInt8(ascii: "/") else {
            return "must be an absolute URL starting with https:// or http://"
        }
        index += 3
        // authority: [userinfo@]host[:port]
        let authorityStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "/"), bytes[index] != UInt8(ascii: "?"), bytes[index] != UInt8(ascii: "#") {
            index += 1
        }
        var authority = bytes[authorityStart..<index]
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) { authority = authority[(at + 1)...] }
        var host = authority
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return "has an unterminated IPv6 host" }
            host = authority[authority.startIndex...close]
            let rest = authority[(close + 1)...]
            if !rest.isEmpty && (rest.first != UInt8(ascii: ":") || !isPort(rest.dropFirst())) { return "has an invalid port" }
        } else if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
            host = authority[..<colon]
            if !isPort(authority[(colon + 1)...]) { return "has an invalid port" }
        }
        if host.isEmpty { return "has no host" }
        if host.first != UInt8(ascii: "["), !host.allSatisfy(isHostByte) { return "has an invalid host" }
        // path, query, fragment
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else {
                    return "has an invalid percent-escape at character \(index + 1)"
                }
                index += 3
                continue
            }
            if byte == UInt8(ascii: "{") {
                if hasPrefix(bytes, at: index, "{id}") { index += 4; continue }
                if hasPrefix(bytes, at: index, "{result}") { index += 8; continue }
                return "has a { that is not one of the placeholders {id} or {result}"
            }
            guard isURIByte(byte) else {
                if byte >= 0x80 { return "has a non-ASCII character; percent-encode it" }
                if byte == 0x20 { return "has a space; percent-encode it as %20" }
                return "has the character \(String(UnicodeScalar(byte))) that a URI does not allow"
            }
            index += 1
        }
        return nil
    }

    /// Returns a reason when `text` is not an RFC 3339 date-time (e.g. `2026-11-22T06:00:00Z`).
    public static func dateTimeProblem(_ text: String) -> String? {
        let b = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                guard isDigit(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        let shape = "must be an RFC 3339 date-time such as 2026-11-22T06:00:00Z"
        guard b.count >= 20, let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
              b[7] == UInt8(ascii: "-"), let day = digits(8, 2),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
              b[16] == UInt8(ascii: ":"), let second = digits(17, 2) else { return shape }
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            if i == start { return shape }
        }
        guard i < b.count else { return shape }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let offsetHour = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"),
                  let offsetMinute = digits(i + 4, 2) else { return shape }
            if offsetHour > 23 || offsetMinute > 59 { return "has an invalid UTC offset" }
            i += 6
        } else {
            return shape
        }
        guard i == b.count else { return shape }
        guard (1...12).contains(month) else { return "has month \(month), not 1–12" }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return "has day \(day), not 1–\(days) for that month" }
        guard hour <= 23, minute <= 59, second <= 60 else { return "has an invalid time of day" }
        return nil
    }

    private static func hasPrefix(_ bytes: [UInt8], at index: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let start = prefix.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] { return false }
        return true
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 97 && (b | 0x20) <= 102) }
    static func isSchemeByte(_ b: UInt8) -> Bool { isAlpha(b) || isDigit(b) || b == 43 || b == 45 || b == 46 }
    static func isHostByte(_ b: UInt8) -> Bool { isAlpha(b) || isDigit(b) || b == 45 || b == 46 || b == 95 || b == 126 }
    static func isPort(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.count <= 5 && bytes.allSatisfy(isDigit) }
    /// RFC 3986 unreserved + reserved characters (without the percent sign, handled apart).
    static func isURIByte(_ b: UInt8) -> Bool {
        if isAlpha(b) || isDigit(b) { return true }
        switch b {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "@"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }
}
