import CashierModel
import Foundation

/// The one rule for which of a customer's listed deposit requests the job made for a row,
/// used by the sender's in-doubt check (`run`, `retry`) and by `reconcile`'s deposit check.
///
/// The operator's own site creates deposit requests for the same customers all day, so a
/// listed request is the row's only when **every field the job sent** is as it was sent and
/// it was created inside the row's window:
/// - customerId, websiteId and currency are the row's exactly, case included (Rebilly's
///   listing filter ignores case, so `cus_a` lists `CUS_A`'s requests too);
/// - amounts, customAmount, redirectUrl and notificationUrl, when the job sent them, are
///   equal (money compared exactly, at the currency's exponent); Rebilly's answer carries no
///   strategyId, customPropertySetId or amountLimits, so those cannot be compared;
/// - expirationTime, to the second, is one the job sent for the row: the batch's own, or the
///   one ``expirationTime(sentAt:rowID:)`` set, unique to the row and its POST;
/// - createdTime lies between the row's first deposit POST and its last deposit call, widened
///   on each side by ``clockTolerance``: this machine's clock and Rebilly's (its createdTime,
///   its `Date` header) may each be off by that much, so neither is trusted to place it.
///
/// A request of the row's customer in the window that differs in exactly one field is a
/// near miss: it may be the row's, changed by Rebilly, or another client's copy. Neither it
/// nor two exact matches may be adopted: the row needs review.
public struct DepositOwnership: Sendable, Equatable {
    /// The disagreement between this machine's clock and Rebilly's allowed by default: 15 minutes.
    public static let defaultClockTolerance: Double = 15 * 60

    /// How far a createdTime may lie outside the row's window on this machine's clock, in
    /// seconds: Rebilly's clock (its createdTime, its `Date` header) may be off by that much.
    public var clockTolerance: Double

    public init(clockTolerance: Double = DepositOwnership.defaultClockTolerance) {
        self.clockTolerance = clockTolerance
    }

    /// The createdTime range, on this machine's clock, in which a request made by POSTs sent
    /// from `firstPost` to `lastCall` can have been stamped: what a listing must cover.
    public func window(firstPost: Date, lastCall: Date) -> ClosedRange<Date> {
        firstPost.addingTimeInterval(-clockTolerance)...max(firstPost, lastCall).addingTimeInterval(clockTolerance)
    }

    /// The expirationTime the job sends when the batch gives none: one hour after the POST,
    /// plus 1…599 s set by the row, in whole seconds. It is never Rebilly's default of exactly
    /// one hour, and two rows sent in the same second carry different values.
    public static func expirationTime(sentAt: Date, rowID: Int64) -> Date {
        let second = sentAt.timeIntervalSince1970.rounded(.down)
        return Date(timeIntervalSince1970: second + 3600 + 1 + Double(((rowID % 599) + 599) % 599))
    }

    /// The send time to record for a deposit POST: whole milliseconds, as the ledger stores
    /// times, so the expirationTime derived from the stored time is the one that was sent.
    public static func sendTime(_ now: Date) -> Date {
        Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    /// What the job sent for a row, and when.
    public struct Row: Sendable, Equatable {
        public var customerId: String
        public var websiteId: String
        public var currency: String
        /// The deposit request's terms as the batch gives them.
        public var terms: DepositRequestSpec
        /// When each deposit POST of the row was sent, oldest first.
        public var posts: [Date]
        /// When its last deposit call (POST or list) was made or answered (nil: no upper bound).
        public var lastCall: Date?
        /// The row's id in the ledger (it sets the job's expirationTime).
        public var rowID: Int64

        public init(customerId: String, websiteId: String, currency: String, terms: DepositRequestSpec,
                    posts: [Date], lastCall: Date?, rowID: Int64) {
            self.customerId = customerId
            self.websiteId = websiteId
            self.currency = currency
            self.terms = terms
            self.posts = posts
            self.lastCall = lastCall
            self.rowID = rowID
        }

        /// Every expirationTime the row's POSTs carried, in whole epoch seconds.
        public var sentExpirations: Set<Int64> {
            if let given = terms.expirationTime {
                guard let date = RFC3339.date(given) else { return [] }
                return [Int64(date.timeIntervalSince1970.rounded(.down))]
            }
            return Set(posts.map { Int64(DepositOwnership.expirationTime(sentAt: $0, rowID: rowID).timeIntervalSince1970) })
        }
    }

    /// The listed requests sorted by how they relate to a row.
    public struct Verdict: Sendable, Equatable {
        /// Every field the job sent matches, inside the window (oldest first, ties by id).
        public var matches: [DepositRequest] = []
        /// The row's customer, inside the window, one field different: (request, the field).
        public var nearMisses: [NearMiss] = []
        /// The row's customer, inside the window, two or more fields different: another client's.
        public var foreign: [DepositRequest] = []

        /// What a person chooses from when the row needs review: the matches and the near misses.
        public var candidates: [DepositRequest] { matches + nearMisses.map(\.request) }
        /// The one request the row may adopt: exactly one full match.
        public var adoptable: DepositRequest? { matches.count == 1 ? matches[0] : nil }
        /// Nothing the job could have made is listed: sending again is safe.
        public var absent: Bool { matches.isEmpty && nearMisses.isEmpty }
        /// Neither adoptable nor absent: a person must decide (``needsReviewReason``).
        public var needsReview: Bool { adoptable == nil && !absent }

        /// Why the row cannot be decided automatically, for its reasons and the reports.
        public var needsReviewReason: String {
            if matches.count > 1 {
                return "\(matches.count) deposit requests match every field the job sent: \(matches.map(\.id).joined(separator: ", "))"
            }
            let misses = nearMisses.map { "\($0.request.id) (\($0.field) differs)" }.joined(separator: ", ")
            return "a deposit request differs from what the job sent in one field: \(misses)"
        }
    }

    public struct NearMiss: Sendable, Equatable {
        public var request: DepositRequest
        public var field: String
    }

    /// Sorts `items` against the row: only the row's own customer and website (exact ids), with
    /// a createdTime inside the row's window widened by ``clockTolerance`` on each side.
    public func verdict(for row: Row, among items: [DepositRequest]) -> Verdict {
        var verdict = Verdict()
        let exponent = Currency(code: row.currency)?.exponent
        let expirations = row.sentExpirations
        let lower = row.posts.min().map { $0.addingTimeInterval(-clockTolerance) }
        let upper = row.lastCall.map { $0.addingTimeInterval(clockTolerance) }
        let sorted = items.sorted { ($0.createdTime ?? .distantPast, $0.id) < ($1.createdTime ?? .distantPast, $1.id) }
        for item in sorted {
            guard item.customerId == row.customerId, item.websiteId == row.websiteId,
                  let created = item.createdTime else { continue }
            if let lower, created < lower { continue }
            if let upper, created > upper { continue }
            let differing = Self.differences(item, row.terms, currency: row.currency, exponent: exponent, expirations: expirations)
            switch differing.count {
            case 0: verdict.matches.append(item)
            case 1: verdict.nearMisses.append(NearMiss(request: item, field: differing[0]))
            default: verdict.foreign.append(item)
            }
        }
        return verdict
    }

    /// The fields of `item` that are not the row's exactly: its customer, website and every field
    /// the job sent (its createdTime is not looked at). Empty: the request can be the row's.
    public func mismatches(of item: DepositRequest, for row: Row) -> [String] {
        var fields: [String] = []
        if item.customerId != row.customerId { fields.append("customerId") }
        if item.websiteId != row.websiteId { fields.append("websiteId") }
        return fields + Self.differences(item, row.terms, currency: row.currency, exponent: Currency(code: row.currency)?.exponent,
                                         expirations: row.sentExpirations)
    }

    /// The fields the job sent that `item` does not carry as sent.
    static func differences(_ item: DepositRequest, _ sent: DepositRequestSpec, currency: String, exponent: Int?,
                            expirations: Set<Int64>) -> [String] {
        var fields: [String] = []
        if item.currency != currency { fields.append("currency") }
        func money(_ text: String?) -> Int64? {
            guard let text, let exponent, case let .success(amount) = Amount.parse(Substring(text), exponent: exponent) else { return nil }
            return amount.minorUnits
        }
        if let amounts = sent.amounts {
            let listed = item.terms.amounts?.map(money)
            if listed != amounts.map({ Optional($0.minorUnits) }) { fields.append("amounts") }
        }
        if let custom = sent.customAmount {
            let listed = item.terms.customAmount
            if money(listed?["minimum"]) != custom.minimum.minorUnits || money(listed?["maximum"]) != custom.maximum.minorUnits
                || money(listed?["multipleOf"]) != custom.multipleOf.minorUnits {
                fields.append("customAmount")
            }
        }
        if let url = sent.redirectUrl, item.terms.redirectUrl != url { fields.append("redirectUrl") }
        if let url = sent.notificationUrl, item.terms.notificationUrl != url { fields.append("notificationUrl") }
        let listedExpiry = item.terms.expirationTime.map { Int64($0.timeIntervalSince1970.rounded(.down)) }
        if listedExpiry.map({ !expirations.contains($0) }) ?? true { fields.append("expirationTime") }
        return fields
    }
}
