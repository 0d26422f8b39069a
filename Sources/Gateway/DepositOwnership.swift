import CashierModel
import Foundation

/// The one rule for which of a customer's listed deposit requests were made for a row, used
/// by the sender's in-doubt check (`run`, `retry`) and by `reconcile`'s deposit check alike.
///
/// A listed deposit request is the row's when
/// - its customerId and websiteId are the row's (compared case-insensitively, as Rebilly's
///   filter matches: the list may hold another id that differs only in case, which is then
///   taken as the same), and its currency is the row's, exactly;
/// - it was created inside the row's window: no earlier than the row's first deposit POST and
///   no later than its last deposit call (a POST, or the list that checks it), each widened
///   by the allowed clock skew. A request without a `createdTime` cannot be placed and is not
///   the row's. A row with no deposit POST recorded has no lower bound.
public struct DepositOwnership: Sendable, Equatable {
    /// Clock skew allowed between this machine and Rebilly, in seconds.
    public var skewSeconds: Double

    public init(skewSeconds: Double) {
        self.skewSeconds = skewSeconds
    }

    /// The row a listed deposit request is matched against.
    public struct Row: Sendable, Equatable {
        public var customerId: String
        public var websiteId: String
        public var currency: String
        /// When the row's first deposit POST was sent (nil: none recorded).
        public var firstPost: Date?
        /// When its last deposit call (POST or list) was made or answered (nil: no upper bound).
        public var lastCall: Date?

        public init(customerId: String, websiteId: String, currency: String, firstPost: Date?, lastCall: Date?) {
            self.customerId = customerId
            self.websiteId = websiteId
            self.currency = currency
            self.firstPost = firstPost
            self.lastCall = lastCall
        }
    }

    /// The row's deposit requests among `items`, oldest first (ties by id).
    public func owned(by row: Row, among items: [DepositRequest]) -> [DepositRequest] {
        items.filter { item in
            guard item.currency == row.currency,
                  item.customerId.caseInsensitiveCompare(row.customerId) == .orderedSame,
                  item.websiteId.caseInsensitiveCompare(row.websiteId) == .orderedSame,
                  let created = item.createdTime else { return false }
            if let first = row.firstPost, created.timeIntervalSince(first) < -skewSeconds { return false }
            if let last = row.lastCall, created.timeIntervalSince(last) > skewSeconds { return false }
            return true
        }.sorted { ($0.createdTime ?? .distantPast, $0.id) < ($1.createdTime ?? .distantPast, $1.id) }
    }
}
