/// Removing the key from what a server says. A proxy, an error page or a login redirect may
/// echo the `REB-APIKEY` it was sent; `RebillyClient` passes every body, header value and
/// transport message through `scrub` as it receives them, before anything else reads them.
extension APIKey {
    /// What an echoed key is replaced with.
    public static let redactionMarker = "[REDACTED]"

    /// `text` with every spelling of the key (see ``KeySpellings``) replaced by ``redactionMarker``.
    /// The key file's raw text is the key with whitespace around it, so it goes with the key.
    public func scrub(_ text: String) -> String {
        var text = text
        guard let clean = text.withUTF8({ scrubbed($0) }) else { return text }
        return String(decoding: clean, as: UTF8.self)
    }

    /// `bytes` (a body) with every spelling of the key replaced by ``redactionMarker``.
    public func scrub(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { scrubbed($0) } ?? bytes
    }

    /// The scrubbed bytes, or nil when the key is not in `text` (nothing is copied then).
    private func scrubbed(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var secret = revealedForHeader
        return secret.withUTF8 { key in
            var out: [UInt8]?
            var copied = 0
            var index = 0
            while index < text.count {
                guard KeySpellings.mayStart(text[index], key[0]), let end = KeySpellings.end(of: key, in: text, at: index) else {
                    index += 1
                    continue
                }
                if out == nil { out = []; out!.reserveCapacity(text.count) }
                out!.append(contentsOf: text[copied..<index])
                out!.append(contentsOf: APIKey.redactionMarker.utf8)
                copied = end
                index = end
            }
            guard var result = out else { return nil }
            result.append(contentsOf: text[copied...])
            return result
        }
    }
}

/// The one rule for which texts spell the key: character by character (so mixes match too), each
/// character as itself in either letter case (a proxy may fold case); percent-encoded once or
/// twice (`%2F`, `%2f`, `%252F`); JSON-escaped (`\/`, `\"`, `\\`, `\u002F`); or an HTML entity
/// (`&#47;`, `&#x2F;`, `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`). Anywhere: inside a longer word too.
enum KeySpellings {
    /// Whether a spelling of `first` may start with `byte` (the scan's cheap filter).
    static func mayStart(_ byte: UInt8, _ first: UInt8) -> Bool {
        lower(byte) == lower(first) || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "&")
    }

    /// Where a spelling of the whole `key` that starts at `start` ends, or nil.
    static func end(of key: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        func match(_ k: Int, _ at: Int) -> Int? {
            if k == key.count { return at }
            return spell(key[k], in: text, at: at) { match(k + 1, at + $0) }
        }
        return match(0, start)
    }

    /// Calls `next` with the length of each spelling of `byte` found at `at` (usually none or
    /// one) until it returns an end; that end, or nil.
    static func spell(_ byte: UInt8, in text: UnsafeBufferPointer<UInt8>, at: Int, _ next: (Int) -> Int?) -> Int? {
        guard at < text.count else { return nil }
        let c = text[at]
        if c == UInt8(ascii: "%") {
            if hex(text, at + 1, 2) == Int(byte), let end = next(3) { return end }
            if hex(text, at + 1, 2) == 0x25, hex(text, at + 3, 2) == Int(byte), let end = next(5) { return end }
        } else if c == UInt8(ascii: "\\"), at + 1 < text.count {
            let escaped = text[at + 1]
            if escaped == byte, byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\"),
               let end = next(2) { return end }
            if escaped == UInt8(ascii: "u"), hex(text, at + 2, 4) == Int(byte), let end = next(6) { return end }
        } else if c == UInt8(ascii: "&"), let length = entity(byte, in: text, at: at), let end = next(length) {
            return end
        }
        return lower(c) == lower(byte) ? next(1) : nil
    }

    /// The length of an HTML character reference to `byte` at `at` (`&#47;`, `&#x2F;`, `&amp;`…).
    static func entity(_ byte: UInt8, in text: UnsafeBufferPointer<UInt8>, at: Int) -> Int? {
        guard let semicolon = (at + 1..<min(text.count, at + 10)).first(where: { text[$0] == UInt8(ascii: ";") }) else { return nil }
        let name = String(decoding: text[(at + 1)..<semicolon], as: UTF8.self).lowercased()
        let value: Int?
        if name.hasPrefix("#x") {
            value = Int(name.dropFirst(2), radix: 16)
        } else if name.hasPrefix("#") {
            value = Int(name.dropFirst(), radix: 10)
        } else {
            value = ["amp": 0x26, "lt": 0x3C, "gt": 0x3E, "quot": 0x22, "apos": 0x27][name]
        }
        return value == Int(byte) ? semicolon + 1 - at : nil
    }

    /// The value of `count` hex digits at `at`, either case, or nil.
    static func hex(_ text: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        guard at + count <= text.count else { return nil }
        var value = 0
        for b in text[at..<(at + count)] {
            let digit: Int
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(b - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(b - UInt8(ascii: "A")) + 10
            default: return nil
            }
            value = value * 16 + digit
        }
        return value
    }

    /// ASCII lower case.
    static func lower(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
    }
}
