import Foundation

/// RFC 3339 date-time text, as the contract's `format: date-time` fields use.
enum Timestamps {
    /// `2026-11-21T23:55:00Z` (whole seconds, UTC).
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    /// Parses RFC 3339 date-time text, with or without fractional seconds and with any offset.
    static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
