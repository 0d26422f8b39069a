import Foundation

/// Format checks the contract names (`format: uri`, ISO 4217 currency, id patterns),
/// implemented here on purpose rather than shared with the batch job's own validation.
enum FieldFormats {
    /// `format: uri` (RFC 3986 absolute URI), at most `maxLength` characters. Rebilly allows the
    /// `{id}` and `{result}` placeholders inside notification and redirect URLs.
    static func isURI(_ text: String) -> Bool {
        var s = text
        for placeholder in ["{id}", "{result}"] {
            s = s.replacingOccurrences(of: placeholder, with: "x")
        }
        let bytes = Array(s.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        guard isAlpha(bytes[0]) else { return false }
        for c in bytes[1..<colon] where !(isAlpha(c) || isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")) {
            return false
        }
        let rest = Array(bytes[(colon + 1)...])
        guard !rest.isEmpty else { return false }
        var i = 0
        while i < rest.count {
            let c = rest[i]
            if c == UInt8(ascii: "%") {
                guard i + 2 < rest.count, isHex(rest[i + 1]), isHex(rest[i + 2]) else { return false }
                i += 3
                continue
            }
            guard allowed.contains(c) else { return false }
            i += 1
        }
        let scheme = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
        if scheme == "http" || scheme == "https" {
            // hierarchical: "//" authority with a non-empty host
            guard rest.starts(with: Array("//".utf8)) else { return false }
            let authority = rest.dropFirst(2).prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
            let hostPort = authority.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false).last ?? []
            let host = hostPort.prefix { $0 != UInt8(ascii: ":") }
            guard !host.isEmpty else { return false }
        }
        return true
    }

    /// Three upper-case ASCII letters (ISO 4217 alphabetic code shape).
    static func isCurrencyCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 3 && bytes.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// A path id: at most 50 characters matching `^[@~\-\.\w]+$` (ASCII word characters).
    static func isResourceID(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 50 && text.utf8.allSatisfy {
            isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "@")
                || $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
    }

    private static let allowed: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=".utf8))

    private static func isAlpha(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }
    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private static func isHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }
}
