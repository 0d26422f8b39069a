#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CashierModel

/// The fast path of the JSON Lines reader: one pass over a line that writes the spans
/// of the known fields straight into a `ByteRecord` — no JSON tree, no String per key
/// or value.
///
/// It accepts only the plain shape (known keys, each once; strings without escapes,
/// control characters or non-ASCII bytes; numbers as RFC 8259 has them; `null`; the
/// four groups as objects; `deposit.amounts` as a string, a number or an array of
/// them). For anything else it returns false and the reader parses the line with the
/// general parser (`JSONParser` + `flatten`), which is the one that words every syntax
/// error, unknown key, duplicate key and wrong type: the messages cannot differ.
enum JSONFlatScanner {
    /// Groups: 0 top level, 1 depositLimits, 2 deposit, 3 deposit.customAmount, 4 deposit.amountLimits.
    /// Each key: a field (>= 0) or a group (-1 - group).
    struct Key {
        let name: StaticString
        let target: Int
    }

    static let keys: [[Key]] = [
        [Key(name: "websiteId", target: Field.websiteId.rawValue),
         Key(name: "customerId", target: Field.customerId.rawValue),
         Key(name: "currency", target: Field.currency.rawValue),
         Key(name: "balance", target: Field.balance.rawValue),
         Key(name: "bonusBalance", target: Field.bonusBalance.rawValue),
         Key(name: "pendingPayoutTotal", target: Field.pendingPayoutTotal.rawValue),
         Key(name: "depositLimits", target: -1 - 1),
         Key(name: "redirectUrl", target: Field.redirectUrl.rawValue),
         Key(name: "notificationUrl", target: Field.notificationUrl.rawValue),
         Key(name: "deposit", target: -1 - 2)],
        [Key(name: "minimum", target: Field.depositLimitsMinimum.rawValue),
         Key(name: "maximum", target: Field.depositLimitsMaximum.rawValue)],
        [Key(name: "strategyId", target: Field.depositStrategyId.rawValue),
         Key(name: "amounts", target: Field.depositAmounts.rawValue),
         Key(name: "customAmount", target: -1 - 3),
         Key(name: "amountLimits", target: -1 - 4),
         Key(name: "redirectUrl", target: Field.depositRedirectUrl.rawValue),
         Key(name: "notificationUrl", target: Field.depositNotificationUrl.rawValue),
         Key(name: "expirationTime", target: Field.depositExpirationTime.rawValue),
         Key(name: "customPropertySetId", target: Field.depositCustomPropertySetId.rawValue)],
        [Key(name: "minimum", target: Field.depositCustomAmountMinimum.rawValue),
         Key(name: "maximum", target: Field.depositCustomAmountMaximum.rawValue),
         Key(name: "multipleOf", target: Field.depositCustomAmountMultipleOf.rawValue)],
        [Key(name: "minimum", target: Field.depositAmountLimitsMinimum.rawValue),
         Key(name: "maximum", target: Field.depositAmountLimitsMaximum.rawValue)],
    ]

    /// Scans `p[0..<n]` into `r` (already reset); false means "take the general path".
    static func scan(_ p: UnsafePointer<UInt8>, _ n: Int, into r: inout ByteRecord) -> Bool {
        keys.withUnsafeBufferPointer { keys in
            var s = Scanner(p: p, n: n, i: 0)
            s.skipWhitespace()
            guard s.i < n, p[s.i] == UInt8(ascii: "{") else { return false }
            s.i += 1
            guard s.object(group: 0, keys: keys, into: &r) else { return false }
            s.skipWhitespace()
            return s.i == n
        }
    }

    struct Scanner {
        let p: UnsafePointer<UInt8>
        let n: Int
        var i: Int

        @inline(__always) mutating func skipWhitespace() {
            while i < n {
                let b = p[i]
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                i += 1
            }
        }

        /// A plain string at `i` (the opening quote): its content range, or nil.
        @inline(__always) mutating func plainString() -> (Int, Int)? {
            i += 1
            let start = i
            while i < n {
                let b = p[i]
                if b == 0x22 {
                    i += 1
                    return (start, i - 1)
                }
                // escapes, control characters and non-ASCII take the general path
                if b == 0x5C || b < 0x20 || b >= 0x80 { return nil }
                i += 1
            }
            return nil
        }

        @inline(__always) func isDigit(_ at: Int) -> Bool { at < n && p[at] &- 0x30 < 10 }

        /// An RFC 8259 number at `i`, exactly as `JSONParser` accepts it.
        @inline(__always) mutating func number() -> (Int, Int)? {
            let start = i
            if p[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { return nil }
            if p[i] == UInt8(ascii: "0") {
                i += 1
                if isDigit(i) { return nil }
            } else {
                while isDigit(i) { i += 1 }
            }
            if i < n, p[i] == UInt8(ascii: ".") {
                i += 1
                guard isDigit(i) else { return nil }
                while isDigit(i) { i += 1 }
            }
            if i < n, p[i] | 0x20 == UInt8(ascii: "e") {
                i += 1
                if i < n, p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i += 1 }
                guard isDigit(i) else { return nil }
                while isDigit(i) { i += 1 }
            }
            return (start, i)
        }

        @inline(__always) mutating func null() -> Bool {
            guard i + 4 <= n, p[i] == UInt8(ascii: "n"), p[i + 1] == UInt8(ascii: "u"),
                  p[i + 2] == UInt8(ascii: "l"), p[i + 3] == UInt8(ascii: "l") else { return false }
            i += 4
            return true
        }

        /// A scalar (string or number) at `i`.
        @inline(__always) mutating func scalar() -> ValueSpan? {
            guard i < n else { return nil }
            let b = p[i]
            if b == 0x22 {
                guard let (start, end) = plainString() else { return nil }
                return ValueSpan(kind: .text, start: start, end: end)
            }
            if b == UInt8(ascii: "-") || b &- 0x30 < 10 {
                guard let (start, end) = number() else { return nil }
                return ValueSpan(kind: .number, start: start, end: end)
            }
            return nil
        }

        /// The members of an object whose `{` was consumed, through its `}`.
        mutating func object(group: Int, keys: UnsafeBufferPointer<[Key]>, into r: inout ByteRecord) -> Bool {
            let names = keys[group]
            var seen: UInt32 = 0
            skipWhitespace()
            if i < n, p[i] == UInt8(ascii: "}") { i += 1; return true }
            while true {
                skipWhitespace()
                guard i < n, p[i] == 0x22, let (keyStart, keyEnd) = plainString() else { return false }
                // Which key?
                let length = keyEnd - keyStart
                var found = -1
                for index in names.indices {
                    let name = names[index].name
                    if name.utf8CodeUnitCount == length, memcmp(p + keyStart, name.utf8Start, length) == 0 {
                        found = index
                        break
                    }
                }
                guard found >= 0, seen & (1 << found) == 0 else { return false }  // unknown or duplicate
                seen |= 1 << found
                skipWhitespace()
                guard i < n, p[i] == UInt8(ascii: ":") else { return false }
                i += 1
                skipWhitespace()
                guard i < n else { return false }
                let target = names[found].target
                if p[i] == UInt8(ascii: "n") {
                    guard null() else { return false }
                } else if target < 0 {
                    guard p[i] == UInt8(ascii: "{") else { return false }
                    i += 1
                    guard object(group: -1 - target, keys: keys, into: &r) else { return false }
                } else if target == Field.depositAmounts.rawValue, p[i] == UInt8(ascii: "[") {
                    i += 1
                    let first = r.items.count
                    skipWhitespace()
                    if i < n, p[i] == UInt8(ascii: "]") {
                        i += 1
                    } else {
                        while true {
                            skipWhitespace()
                            guard let item = scalar() else { return false }
                            r.items.append(item)
                            skipWhitespace()
                            guard i < n else { return false }
                            if p[i] == UInt8(ascii: ",") { i += 1; continue }
                            guard p[i] == UInt8(ascii: "]") else { return false }
                            i += 1
                            break
                        }
                    }
                    r.set(.depositAmounts, ValueSpan(kind: .list, start: first, end: r.items.count))
                } else {
                    guard let value = scalar(), let field = Field(rawValue: target) else { return false }
                    r.set(field, value)
                }
                skipWhitespace()
                guard i < n else { return false }
                if p[i] == UInt8(ascii: ",") { i += 1; continue }
                guard p[i] == UInt8(ascii: "}") else { return false }
                i += 1
                return true
            }
        }
    }
}
