import CashierModel
import Foundation
import RebillyClient

/// A keyset listing of the deposit requests in a scope, page by page: where the next page starts
/// and which ids of that second were handed over already. It makes no call; the gateway's
/// listing and a row's in-doubt check send its pages.
///
/// Pages are keyed on createdTime, the one member of Rebilly's `x-sortable` set that orders by
/// creation (`sort=createdTime`; Rebilly's offset stops at 1,000, so offsets cannot page a long
/// history). After a full page the next starts at its last item's second, inclusive, at offset
/// 0, and the ids of that second already handed over are skipped: the order within a second is
/// Rebilly's to choose and may change between pages, so a second is always read whole. A second
/// holding a full page or more cannot be read whole: the listing is then stuck, never short.
public struct DepositListing: Sendable {
    public let scope: RebillyGateway.DepositScope
    public let pageSize: Int
    /// The second the next page starts at (epoch seconds, inclusive).
    var from: Double
    /// The end of the window, rounded up to its second.
    let to: Date
    /// Ids handed over in the second the next page starts at: only those can be read again.
    var seenInSecond = Set<String>()
    /// The last page was taken.
    public private(set) var isComplete = false
    /// Why the listing cannot go on although every answer was a good one.
    public private(set) var stuck: CallFailure?

    public init(_ scope: RebillyGateway.DepositScope, pageSize: Int = RebillyGateway.depositPageSize) {
        self.scope = scope
        self.pageSize = pageSize
        from = scope.createdFrom.timeIntervalSince1970.rounded(.down)
        to = Date(timeIntervalSince1970: scope.createdTo.timeIntervalSince1970.rounded(.up))
    }

    /// Where the next page starts.
    var start: Date { Date(timeIntervalSince1970: from) }

    /// Takes an answered page: returns its requests not handed over before, and says whether it
    /// was the last (``isComplete``) or the listing cannot go on (``stuck``).
    public mutating func take(_ answer: DepositRequestPage) -> [DepositRequest] {
        func second(_ item: DepositRequest) -> Double? { item.createdTime.map { $0.timeIntervalSince1970.rounded(.down) } }
        let fresh = answer.items.filter { second($0) != from || !seenInSecond.contains($0.id) }
        // A short page is the last; so is a full one that reaches the filter's total.
        if answer.items.count < pageSize || answer.total.map({ answer.items.count >= $0 }) == true {
            isComplete = true
            return fresh
        }
        guard let last = answer.items.last.flatMap(second), last >= from else {
            stuck = Self.failure(
                "a full page of \(scope.name) deposit requests ends without a createdTime at or after \(RFC3339.string(start))")
            return fresh
        }
        guard last > from else {
            stuck = Self.failure(
                "\(pageSize) or more of \(scope.name) deposit requests were created in the second \(RFC3339.string(start)): a page cannot hold them all, so the listing cannot be completed")
            return fresh
        }
        seenInSecond = Set(answer.items.filter { second($0) == last }.map(\.id))
        from = last
        return fresh
    }

    /// A listing that cannot go on although every answer was a good one.
    static func failure(_ message: String) -> CallFailure {
        var failure = CallFailure(.decoding(message: message, status: 200, latency: .zero))
        failure.message = message
        return failure
    }
}
