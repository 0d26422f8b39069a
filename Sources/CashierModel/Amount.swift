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
        let (scaled, overflow) = minorUnits.multipliedReportingOverflow(by: 100)
        return overflow || scaled >= Amount.powerOfTen(exponent)
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

    static func powerOfTen(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Parses decimal text into minor units at `exponent`.
    ///
    /// Accepts `123`, `123.4`, `0.05`, a leading `-` (so that "must be ≥ 0" can be
    /// reported rather than "not a number"); refuses exponents, separators, signs
    /// like `+`, and fraction digits the currency does not have (trailing zeros
    /// beyond the exponent are exact and accepted: `10.500` USD is 10.50).
    public static func parse(_ text: Substring, exponent: Int) -> Result<Amount, AmountError> {
        var utf8 = text.utf8[...]
        // Trim surrounding blanks (spreadsheet exports pad cells).
        while let first = utf8.first, first == 0x20 || first == 0x09 { utf8 = utf8.dropFirst() }
        while let last = utf8.last, last == 0x20 || last == 0x09 { utf8 = utf8.dropLast() }
        guard !utf8.isEmpty else { return .failure(.empty) }
        var negative = false
        if utf8.first == UInt8(ascii: "-") { negative = true; utf8 = utf8.dropFirst() }
        var integer: Int64 = 0
        var integerDigits = 0
        var fractionValue: Int64 = 0
        var fractionDigits = 0
        var excessNonZero = false
        var seenPoint = false
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int64(byte &- UInt8(ascii: "0"))
                if seenPoint {
                    fractionDigits += 1
                    if fractionDigits <= exponent {
                        fractionValue = fractionValue * 10 + digit
                    } else if digit != 0 {
                        excessNonZero = true
                    }
                } else {
                    integerDigits += 1
                    if integerDigits > 18 { return .failure(.tooLarge) }
                    integer = integer * 10 + digit
                }
            case UInt8(ascii: "."):
                if seenPoint { return .failure(.notANumber) }
                seenPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                return .failure(.exponentNotation)
            case UInt8(ascii: ","), UInt8(ascii: "'"), UInt8(ascii: "_"), UInt8(ascii: " "):
                return .failure(.separator)
            case UInt8(ascii: "+"):
                return .failure(.explicitPlusSign)
            default:
                return .failure(.notANumber)
            }
        }
        if integerDigits == 0 { return .failure(seenPoint ? .missingIntegerPart : .notANumber) }
        if seenPoint && fractionDigits == 0 { return .failure(.missingFractionPart) }
        if excessNonZero { return .failure(.tooManyDecimals(found: fractionDigits, allowed: exponent)) }
        // Scale the fraction up to exactly `exponent` digits.
        for _ in min(fractionDigits, exponent)..<exponent { fractionValue *= 10 }
        let scale = powerOfTen(exponent)
        let (scaled, overflow1) = integer.multipliedReportingOverflow(by: scale)
        let (minor, overflow2) = scaled.addingReportingOverflow(fractionValue)
        if overflow1 || overflow2 || minor > maxMinorUnits { return .failure(.tooLarge) }
        return .success(Amount(minorUnits: negative ? -minor : minor, exponent: exponent))
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
