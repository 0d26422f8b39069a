import Foundation

/// A known difference, accepted by a person with a reason (`acceptances`): it covers its key's
/// break while the difference stays exactly the same, and ends when revoked or when a
/// reconciliation finds another difference.
public struct Acceptance: Sendable, Equatable, Hashable {
    public var id: Int64
    public var websiteID: String
    public var customerID: String
    public var currency: String
    public var field: BreakField
    public var exponent: Int
    /// The difference accepted (Rebilly − batch), in minor units.
    public var differenceMinor: Int64
    /// The break accepted, and the run it was recorded for.
    public var breakID: Int64
    public var runID: Int64
    /// Who accepted it (the OS user, or `accept --by`), when and why.
    public var acceptedBy: String
    public var acceptedAt: Date
    public var reason: String

    public init(id: Int64, websiteID: String, customerID: String, currency: String, field: BreakField, exponent: Int,
                differenceMinor: Int64, breakID: Int64, runID: Int64, acceptedBy: String, acceptedAt: Date, reason: String) {
        self.id = id
        self.websiteID = websiteID
        self.customerID = customerID
        self.currency = currency
        self.field = field
        self.exponent = exponent
        self.differenceMinor = differenceMinor
        self.breakID = breakID
        self.runID = runID
        self.acceptedBy = acceptedBy
        self.acceptedAt = acceptedAt
        self.reason = reason
    }

    /// The accepted difference as exact signed decimal text.
    public var difference: String { Amount.format(Int128(differenceMinor), exponent: exponent) }
}
