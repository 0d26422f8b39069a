import Foundation

/// Collects `invalidFields` while reading one JSON object against a schema written out in code.
/// Every getter records its own error and returns nil, so one pass reports every bad field.
struct BodyValidator {
    private(set) var errors: [InvalidField] = []

    mutating func fail(_ field: String, _ message: String) {
        errors.append(InvalidField(field: field, message: message))
    }

    /// The members of `value` if it is an object; otherwise records an error at `path`.
    mutating func object(_ value: JSONValue, at path: String) -> [(String, JSONValue)]? {
        guard case .object(let members) = value else {
            fail(path, "\(path) must be an object")
            return nil
        }
        return members
    }

    /// Records every member not in `allowed` (`additionalProperties: false` behaviour).
    mutating func rejectUnknown(_ members: [(String, JSONValue)], allowed: [String], prefix: String) {
        var seen = Set<String>()
        for (key, _) in members where !allowed.contains(key) && seen.insert(key).inserted {
            fail(prefix + key, "\(prefix + key) is not an allowed field")
        }
    }

    /// A string member. `nonEmpty` rejects "" (ids that must name something).
    mutating func string(
        _ object: JSONValue, _ key: String, prefix: String = "",
        required: Bool = false, nullable: Bool = false, maxLength: Int? = nil, nonEmpty: Bool = false
    ) -> String? {
        let path = prefix + key
        guard let value = object[key] else {
            if required { fail(path, "\(path) is required") }
            return nil
        }
        switch value {
        case .null:
            if required { fail(path, "\(path) is required") }
            else if !nullable { fail(path, "\(path) must be a string") }
            return nil
        case .string(let s):
            if nonEmpty && s.isEmpty {
                fail(path, "\(path) must not be empty")
                return nil
            }
            if let maxLength, s.count > maxLength {
                fail(path, "\(path) must be at most \(maxLength) characters")
                return nil
            }
            return s
        default:
            fail(path, "\(path) must be a string")
            return nil
        }
    }

    /// The 3-letter currency code (`CurrencyCode`: minLength 3, maxLength 3).
    mutating func currency(_ object: JSONValue, _ key: String, prefix: String = "") -> String? {
        let path = prefix + key
        guard let code = string(object, key, prefix: prefix, required: true) else { return nil }
        guard FieldFormats.isCurrencyCode(code) else {
            fail(path, "\(path) must be a 3-letter ISO 4217 currency code")
            return nil
        }
        return code
    }

    /// A `format: uri` string of at most 2083 characters (nullable as in the contract).
    mutating func uri(_ object: JSONValue, _ key: String, prefix: String = "", nullable: Bool = true) -> String? {
        let path = prefix + key
        guard let text = string(object, key, prefix: prefix, nullable: nullable, maxLength: 2083) else { return nil }
        guard FieldFormats.isURI(text) else {
            fail(path, "\(path) must be a valid URI")
            return nil
        }
        return text
    }

    /// A `format: date-time` string (RFC 3339).
    mutating func dateTime(_ object: JSONValue, _ key: String, prefix: String = "", nullable: Bool = true) -> Date? {
        let path = prefix + key
        guard let text = string(object, key, prefix: prefix, nullable: nullable) else { return nil }
        guard let date = Timestamps.parse(text) else {
            fail(path, "\(path) must be an RFC 3339 date-time")
            return nil
        }
        return date
    }

    /// Checks one JSON value as a number ≥ `minimum`, at `path`.
    mutating func number(_ value: JSONValue, at path: String, minimum: Decimal?) -> ExactNumber? {
        guard case .number(let literal) = value else {
            fail(path, "\(path) must be a number")
            return nil
        }
        guard let number = ExactNumber(literal: literal) else {
            fail(path, "\(path) is out of range")
            return nil
        }
        if let minimum, number.value < minimum {
            fail(path, "\(path) must be greater than or equal to \(minimum)")
            return nil
        }
        return number
    }

    /// A number member ≥ `minimum`; `null` is accepted only when `nullable`.
    mutating func number(
        _ object: JSONValue, _ key: String, prefix: String = "",
        required: Bool = false, nullable: Bool = false, minimum: Decimal?
    ) -> ExactNumber? {
        let path = prefix + key
        guard let value = object[key] else {
            if required { fail(path, "\(path) is required") }
            return nil
        }
        if case .null = value {
            if required || !nullable { fail(path, required ? "\(path) is required" : "\(path) must be a number") }
            return nil
        }
        return number(value, at: path, minimum: minimum)
    }
}

extension Decimal {
    /// `0.01`, the contract's smallest amount, built exactly.
    static let oneCent = Decimal(sign: .plus, exponent: -2, significand: 1)
}
