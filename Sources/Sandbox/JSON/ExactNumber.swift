import Foundation

/// A JSON number kept exactly: the literal text (echoed back unchanged) and its `Decimal` value
/// (for comparisons). Money never passes through `Double` in the sandbox.
struct ExactNumber: Sendable, Equatable {
    let literal: String
    let value: Decimal

    private static let posix = Locale(identifier: "en_US_POSIX")

    /// From a JSON number literal; nil when `Decimal` cannot hold it (e.g. `1e999`).
    init?(literal: String) {
        guard let value = Decimal(string: literal, locale: Self.posix), !value.isNaN else { return nil }
        self.literal = literal
        self.value = value
    }

    /// From a decimal value; the literal is its exact plain-decimal text.
    init(_ value: Decimal) {
        self.value = value
        self.literal = value.description
    }

    static let zero = ExactNumber(Decimal(0))

    var json: JSONValue { .number(literal) }
}

extension Decimal {
    /// Whether this value is a whole number (exactly, no tolerance).
    var isWholeNumber: Bool {
        var input = self
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, 0, .plain)
        return rounded == self
    }
}
