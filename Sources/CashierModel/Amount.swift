/// An exact non-floating amount: integer minor units at a currency's exponent.
///
/// `Amount(minorUnits: 1050, exponent: 2)` is 10.50. Money never passes through
/// `Double`: amounts are parsed from their text and written back with exact digits.
public struct Amount: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let minorUnits: Int64
    public let exponent: Int

    /// Largest accepted magnitude in minor units (15 digits): beyond it, the API's
    /// double-precision numbers could no longer carry every minor unit.
    public static let maxMinorUnits: Int64 = 999_999_999_999_999

    public init(minorUnits: Int64, exponent: Int) {
        self.minorUnits = minorUnits
        self.exponent = exponent
    }

    public static func < (lhs: Amount, rhs: Amount) -> Bool {
        precondition(lhs.exponent == rhs.exponent, "amounts of different exponents compared")
        return lhs.minorUnits < rhs.minorUnits
    }

    /// True when the amount is at least 0.01 whatever the exponent (the API's `minimum: 0.01`).
    public var isAtLeastOneHundredth: Bool {
        // minor / 10^e >= 1/100  <=>  minor * 100 >= 10^e
        Amount.isAtLeastOneHundredth(minorUnits, exponent: exponent)
    }

    /// The exact decimal text, e.g. "10.50", "15000", "0.005".
    public var description: String { Amount.format(Int128(minorUnits), exponent: exponent) }

    /// Formats a (possibly summed, 128-bit) minor-unit value as exact decimal text.
    public static func format(_ minor: Int128, exponent: Int) -> String {
        let negative = minor < 0
        let digits = String(negative ? -minor : minor)
        guard exponent > 0 else { return negative ? "-" + digits : digits }
        let padded = digits.count <= exponent
            ? String(repeating: "0", count: exponent - digits.count + 1) + digits
            : digits
        let split = padded.index(padded.endIndex, offsetBy: -exponent)
        let text = padded[..<split] + "." + padded[split...]
        return negative ? "-" + text : String(text)
    }

    @inline(__always)
    static func powerOfTen(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        var e = exponent
        while e > 0 { value *= 10; e -= 1 }
        return value
    }

    /// Parses decimal text into minor units at `exponent`.
    ///
    /// Accepts `123`, `123.4`, `0.05`, a leading `-` (so that "must be ≥ 0" can be
    /// reported rather than "not a number"); refuses exponents, separators, signs
    /// like `+`, and fraction digits the currency does not have (trailing zeros
    /// beyond the exponent are exact and accepted: `10.500` USD is 10.50).
    public static func parse(_ text: Substring, exponent: Int) -> Result<Amount, AmountError> {
        var text = text
        let outcome = text.withUTF8 { parseMinorUnits($0, exponent: exponent) }
        if let error = outcome.error { return .failure(error) }
        return .success(Amount(minorUnits: outcome.minorUnits, exponent: exponent))
    }

    /// The byte-level parser behind `parse(_:exponent:)` (one implementation, so the
    /// fast path and the String path can never disagree). `error` is nil on success.
    @inline(__always)
    public static func parseMinorUnits(_ bytes: UnsafeBufferPointer<UInt8>, exponent: Int) -> (minorUnits: Int64, error: AmountError?) {
        guard let base = bytes.baseAddress else { return (0, .empty) }
        var start = 0
        var end = bytes.count
        // Trim surrounding blanks (spreadsheet exports pad cells).
        while start < end, base[start] == 0x20 || base[start] == 0x09 { start += 1 }
        while end > start, base[end - 1] == 0x20 || base[end - 1] == 0x09 { end -= 1 }
        guard start < end else { return (0, .empty) }
        var negative = false
        if base[start] == UInt8(ascii: "-") { negative = true; start += 1 }
        var integer: Int64 = 0
        var integerDigits = 0
        var fractionValue: Int64 = 0
        var fractionDigits = 0
        var excessNonZero = false
        var seenPoint = false
        var i = start
        while i < end {
            let byte = base[i]
            i += 1
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                if seenPoint {
                    fractionDigits += 1
                    if fractionDigits <= exponent {
                        fractionValue = fractionValue &* 10 &+ Int64(digit)
                    } else if digit != 0 {
                        excessNonZero = true
                    }
                } else {
                    integerDigits += 1
                    if integerDigits > 18 { return (0, .tooLarge) }
                    integer = integer &* 10 &+ Int64(digit)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "."):
                if seenPoint { return (0, .notANumber) }
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                return (0, .exponentNotation)
            case UInt8(ascii: ","), UInt8(ascii: "'"), UInt8(ascii: "_"), UInt8(ascii: " "):
                return (0, .separator)
            case UInt8(ascii: "+"):
                return (0, .explicitPlusSign)
            default:
                return (0, .notANumber)
            }
        }
        if integerDigits == 0 { return (0, seenPoint ? .missingIntegerPart : .notANumber) }
        if seenPoint && fractionDigits == 0 { return (0, .missingFractionPart) }
        if excessNonZero { return (0, .tooManyDecimals(found: fractionDigits, allowed: exponent)) }
        // Scale the fraction up to exactly `exponent` digits.
        var scaledDigits = min(fractionDigits, exponent)
        while scaledDigits < exponent { fractionValue &*= 10; scaledDigits += 1 }
        let scale = powerOfTen(exponent)
        let (scaled, overflow1) = integer.multipliedReportingOverflow(by: scale)
        let (minor, overflow2) = scaled.addingReportingOverflow(fractionValue)
        if overflow1 || overflow2 || minor > maxMinorUnits { return (0, .tooLarge) }
        return (negative ? -minor : minor, nil)
    }

    /// `isAtLeastOneHundredth` on bare minor units.
    @inline(__always)
    public static func isAtLeastOneHundredth(_ minorUnits: Int64, exponent: Int) -> Bool {
        let (scaled, overflow) = minorUnits.multipliedReportingOverflow(by: 100)
        return overflow || scaled >= powerOfTen(exponent)
    }
}

/// Why a money text was refused; `message` is the operator-facing reason.
public enum AmountError: Error, Equatable, Sendable {
    case empty
    case notANumber
    case exponentNotation
    case separator
    case explicitPlusSign
    case missingIntegerPart
    case missingFractionPart
    case tooManyDecimals(found: Int, allowed: Int)
    case tooLarge

    public func message(currency: String?) -> String {
        switch self {
        case .empty: return "is empty"
        case .notANumber: return "is not a decimal number"
        case .exponentNotation: return "exponent notation is not allowed (write 1000, not 1e3)"
        case .separator: return "thousands separators and decimal commas are not allowed (write 1000.00, not 1,000.00)"
        case .explicitPlusSign: return "a leading + is not allowed"
        case .missingIntegerPart: return "needs a digit before the decimal point (write 0.5, not .5)"
        case .missingFractionPart: return "needs digits after the decimal point"
        case let .tooManyDecimals(found, allowed):
            let unit = currency.map { "\($0) allows \(allowed)" } ?? "the currency allows \(allowed)"
            return "has \(found) decimal\(found == 1 ? "" : "s") but \(unit) (amounts are never rounded)"
        case .tooLarge: return "is too large (at most 15 digits in minor units)"
        }
    }
}
