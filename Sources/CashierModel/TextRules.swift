/// Syntax checks on text fields, written against the RFCs rather than Foundation so
/// that they are exact, fast and the same on every platform.
public enum TextRules {
    /// The API's limit for URLs.
    public static let maxURLLength = 2083
    /// The API's limit for ids.
    public static let maxIdLength = 50

    /// A byte Rebilly's id pattern `^[@~\-.\w]+$` allows: an ASCII letter, digit, `_`, `@`,
    /// `~`, `-` or `.`. Anything else (`,` `;` `!` `:` a space…) could change a list filter.
    @inline(__always) public static func isIdByte(_ b: UInt8) -> Bool {
        isAlpha(b) || isDigit(b) || b == 95 || b == 64 || b == 126 || b == 45 || b == 46
    }

    /// Why `text` is not an id by Rebilly's pattern and length limit, or nil.
    public static func idProblem(_ text: String) -> String? {
        let length = text.unicodeScalars.count
        if length == 0 { return "must not be empty" }
        if length > maxIdLength { return "must be at most \(maxIdLength) characters (got \(length))" }
        if let bad = text.unicodeScalars.first(where: { !$0.isASCII || !isIdByte(UInt8($0.value)) }) {
            let shown = bad.value < 0x20 || bad.value == 0x7F ? "a control character" : "'\(Character(bad))'"
            return "must match Rebilly's id pattern (letters, digits and _ @ ~ - . only): \(shown) is not allowed"
        }
        return nil
    }

    /// Returns a reason when `text` is not an absolute http(s) URI of at most 2083
    /// characters. The `{id}` and `{result}` placeholders are allowed anywhere after the host.
    public static func urlProblem(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { urlProblem(bytes: $0) }
    }

    /// `urlProblem` on the UTF-8 bytes of the text (the one implementation of the rule).
    public static func urlProblem(bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let count = bytes.count
        if count > maxURLLength {
            var scalars = 0
            for byte in bytes where byte & 0xC0 != 0x80 { scalars += 1 }
            return "must be at most \(maxURLLength) characters (got \(scalars))"
        }
        var index = 0
        // scheme
        while index < count, isSchemeByte(bytes[index]) { index += 1 }
        let schemeEnd = index
        guard index < count, bytes[index] == UInt8(ascii: ":"), schemeEnd > 0 else {
            return "must be an absolute URL starting with https:// or http://"
        }
        let isHTTP = (schemeEnd == 4 || schemeEnd == 5)
            && bytes[0] | 0x20 == UInt8(ascii: "h") && bytes[1] | 0x20 == UInt8(ascii: "t")
            && bytes[2] | 0x20 == UInt8(ascii: "t") && bytes[3] | 0x20 == UInt8(ascii: "p")
            && (schemeEnd == 4 || bytes[4] | 0x20 == UInt8(ascii: "s"))
        guard isHTTP else {
            let scheme = String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<schemeEnd]), as: UTF8.self).lowercased()
            return "scheme \(scheme): is not allowed (only http and https)"
        }
        guard count >= index + 3, bytes[index + 1] == UInt8(ascii: "/"), bytes[index + 2] == UInt8(ascii: "/") else {
            return "must be an absolute URL starting with https:// or http://"
        }
        index += 3
        // authority: [userinfo@]host[:port]
        var authorityStart = index
        while index < count, bytes[index] != UInt8(ascii: "/"), bytes[index] != UInt8(ascii: "?"), bytes[index] != UInt8(ascii: "#") {
            index += 1
        }
        let authorityEnd = index
        var at = authorityEnd
        while at > authorityStart {
            at -= 1
            if bytes[at] == UInt8(ascii: "@") { authorityStart = at + 1; break }
        }
        var hostStart = authorityStart
        var hostEnd = authorityEnd
        if authorityStart < authorityEnd, bytes[authorityStart] == UInt8(ascii: "[") {
            var close = authorityStart
            while close < authorityEnd, bytes[close] != UInt8(ascii: "]") { close += 1 }
            guard close < authorityEnd else { return "has an unterminated IPv6 host" }
            hostEnd = close + 1
            if hostEnd < authorityEnd && (bytes[hostEnd] != UInt8(ascii: ":") || !isPort(bytes, hostEnd + 1, authorityEnd)) {
                return "has an invalid port"
            }
        } else {
            var colon = authorityStart
            while colon < authorityEnd, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            if colon < authorityEnd {
                hostEnd = colon
                if !isPort(bytes, colon + 1, authorityEnd) { return "has an invalid port" }
            }
        }
        if hostStart == hostEnd { return "has no host" }
        if bytes[hostStart] != UInt8(ascii: "[") {
            while hostStart < hostEnd {
                if !isHostByte(bytes[hostStart]) { return "has an invalid host" }
                hostStart += 1
            }
        }
        // path, query, fragment
        while index < count {
            let byte = bytes[index]
            if isURIByte(byte) { index += 1; continue }
            if byte == UInt8(ascii: "%") {
                guard index + 2 < count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else {
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
            if byte >= 0x80 { return "has a non-ASCII character; percent-encode it" }
            if byte == 0x20 { return "has a space; percent-encode it as %20" }
            return "has the character \(String(UnicodeScalar(byte))) that a URI does not allow"
        }
        return nil
    }

    /// Returns a reason when `text` is not an RFC 3339 date-time (e.g. `2026-11-22T06:00:00Z`).
    public static func dateTimeProblem(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { dateTimeProblem(bytes: $0) }
    }

    /// `dateTimeProblem` on the UTF-8 bytes of the text (see ``RFC3339``, the one implementation of the rule).
    public static func dateTimeProblem(bytes b: UnsafeBufferPointer<UInt8>) -> String? {
        if case let .failure(problem) = RFC3339.parse(bytes: b) { return problem.message }
        return nil
    }

    private static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, _ prefix: StaticString) -> Bool {
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
    static func isPort(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        guard end - start <= 5 else { return false }
        var i = start
        while i < end { if !isDigit(bytes[i]) { return false }; i += 1 }
        return true
    }
    /// RFC 3986 unreserved + reserved characters (without the percent sign, handled apart).
    @inline(__always) static func isURIByte(_ b: UInt8) -> Bool {
        // RFC 3986 unreserved + reserved characters as two 64-bit masks (no table lookup):
        // ALPHA DIGIT - . _ ~ : / ? # [ ] @ ! $ & ' ( ) * + , ; =
        let low: UInt64 = 0xAFFF_FFDA_0000_0000
        let high: UInt64 = 0x47FF_FFFE_AFFF_FFFF
        if b < 64 { return low & (1 << UInt64(b)) != 0 }
        if b < 128 { return high & (1 << UInt64(b - 64)) != 0 }
        return false
    }
}
