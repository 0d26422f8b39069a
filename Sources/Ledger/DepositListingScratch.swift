import CashierModel
import Foundation
import GRDB

/// A night's deposit-request listing, kept on disk while reconciliation checks it, so memory
/// holds the requests of one page of rows, not the night's. A scratch SQLite file beside the
/// ledger (`LEDGER.listing`, mode 0600, no journal: nothing in it must survive), replaced when
/// a crashed command left one, removed by ``discard()``.
public final class DepositListingScratch: Sendable {
    /// The scratch file.
    public let path: String
    private let queue: DatabaseQueue

    /// Creates an empty scratch file beside the ledger at `ledgerPath`.
    public init(besideLedger ledgerPath: String) throws {
        path = ledgerPath + ".listing"
        Self.remove(path)
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
        if fd >= 0 { close(fd) }
        var config = Configuration()
        config.label = "deposit-listing"
        config.journalMode = .default
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            // The file is this command's alone: once written, no other process may lock it (a
            // reader holding it would make a commit here fail).
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
        }
        queue = try DatabaseQueue(path: path, configuration: config)
        try queue.write { db in try db.execute(sql: Self.schema) }
    }

    /// Where a listed request and a row meet: customerId and websiteId, case-folded as Rebilly's
    /// filter matches them.
    public static func key(customerID: String, websiteID: String) -> String {
        fold(customerID) + "\u{1F}" + fold(websiteID)
    }

    /// An id as Rebilly's filters compare it: case-folded.
    public static func fold(_ id: String) -> String { id.folding(options: .caseInsensitive, locale: nil) }

    /// Adds one page of a listing; a request already kept (same id) is kept once.
    public func add(_ items: [DepositRequest]) throws {
        guard !items.isEmpty else { return }
        try queue.write { db in
            let insert = try db.cachedStatement(sql: Self.insert)
            for item in items {
                let terms = item.terms
                let custom = terms.customAmount.map { $0.sorted { $0.key < $1.key }.map { $0.key + "\u{1E}" + $0.value } }
                try insert.execute(arguments: [
                    item.id, Self.key(customerID: item.customerId, websiteID: item.websiteId), Self.fold(item.websiteId),
                    item.generation.rawValue, item.status, Self.joined(item.transactionIds),
                    item.customerId, item.websiteId, item.currency, item.depositURL, item.createdTime?.timeIntervalSince1970,
                    terms.amounts.map(Self.joined), terms.defaultAmount, custom.map(Self.joined),
                    terms.redirectUrl, terms.notificationUrl, terms.expirationTime?.timeIntervalSince1970,
                ])
            }
        }
    }

    /// The requests kept under each of `keys` (see ``key(customerID:websiteID:)``).
    public func requests(keys: Set<String>) throws -> [String: [DepositRequest]] {
        guard !keys.isEmpty else { return [:] }
        return try queue.read { db in
            var found: [String: [DepositRequest]] = [:]
            let all = Array(keys)
            for start in stride(from: 0, to: all.count, by: 500) {
                let chunk = all[start..<min(start + 500, all.count)]
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM listed WHERE key IN (\(marks)) ORDER BY rowid",
                                               arguments: StatementArguments(chunk))
                while let row = try rows.next() {
                    let custom: String? = try row.decode(forColumn: "custom_amount")
                    let item = DepositRequest(
                        id: try row.decode(forColumn: "id"), generation: DepositRequest.Generation(rawValue: try row.decode(forColumn: "generation")) ?? .depositRequest,
                        status: try row.decode(forColumn: "status"), transactionIds: Self.split(try row.decode(forColumn: "transaction_ids")) ?? [],
                        customerId: try row.decode(forColumn: "customer_id"), websiteId: try row.decode(forColumn: "website_id"), currency: try row.decode(forColumn: "currency"),
                        depositURL: try row.decode(forColumn: "deposit_url"), createdTime: Self.date(try row.decode(forColumn: "created_time")),
                        terms: DepositTerms(
                            amounts: Self.split(try row.decode(forColumn: "amounts")), defaultAmount: try row.decode(forColumn: "default_amount"),
                            customAmount: Self.split(custom).map { pairs in
                                Dictionary(pairs.compactMap { pair in
                                    let parts = pair.split(separator: "\u{1E}", maxSplits: 1, omittingEmptySubsequences: false)
                                    return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                                }, uniquingKeysWith: { a, _ in a })
                            },
                            redirectUrl: try row.decode(forColumn: "redirect_url"), notificationUrl: try row.decode(forColumn: "notification_url"),
                            expirationTime: Self.date(try row.decode(forColumn: "expiration_time"))))
                    found[try row.decode(forColumn: "key"), default: []].append(item)
                }
            }
            return found
        }
    }

    /// Forgets the requests of one website (case-folded), before it is listed again.
    public func removeWebsite(_ websiteID: String) throws {
        try queue.write { db in try db.execute(sql: "DELETE FROM listed WHERE site = ?", arguments: [Self.fold(websiteID)]) }
    }

    /// How many requests are kept.
    public func count() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM listed") ?? 0 }
    }

    /// Closes and removes the scratch file.
    public func discard() {
        try? queue.close()
        Self.remove(path)
    }

    private static func remove(_ path: String) {
        for file in [path, path + "-journal", path + "-wal", path + "-shm"] { unlink(file) }
    }

    /// Times are kept as the seconds `Date` holds, exactly (REAL), not rounded to a text.
    private static func date(_ seconds: Double?) -> Date? { seconds.map(Date.init(timeIntervalSince1970:)) }

    /// Texts joined by U+001F (which a listed member never holds); "" is an empty list.
    private static func joined(_ texts: [String]) -> String { texts.joined(separator: "\u{1F}") }
    private static func split(_ text: String?) -> [String]? {
        guard let text else { return nil }
        return text.isEmpty ? [] : text.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
    }

    private static let schema = """
        CREATE TABLE listed (
            id TEXT PRIMARY KEY, key TEXT NOT NULL, site TEXT NOT NULL, generation TEXT NOT NULL, status TEXT, transaction_ids TEXT NOT NULL,
            customer_id TEXT NOT NULL, website_id TEXT NOT NULL, currency TEXT NOT NULL, deposit_url TEXT, created_time REAL,
            amounts TEXT, default_amount TEXT, custom_amount TEXT, redirect_url TEXT, notification_url TEXT, expiration_time REAL
        );
        CREATE INDEX listed_key ON listed(key);
        CREATE INDEX listed_site ON listed(site);
        """
    private static let insert = """
        INSERT OR IGNORE INTO listed (id, key, site, generation, status, transaction_ids, customer_id, website_id, currency,
            deposit_url, created_time, amounts, default_amount, custom_amount, redirect_url, notification_url, expiration_time)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """
}
