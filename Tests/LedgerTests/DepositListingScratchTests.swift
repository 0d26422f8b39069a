import CashierModel
import Foundation
import GRDB
import Testing
@testable import Ledger

/// The night's listing kept on disk: what goes in comes back field for field, by customer.
@Suite struct DepositListingScratchTests {
    static let created = Date(timeIntervalSince1970: 1_795_000_000.25)
    static let expires = Date(timeIntervalSince1970: 1_795_003_601)

    static func request(_ id: String, customer: String, website: String = "web_1", amounts: [String]? = ["10.00", "20.00"],
                        custom: [String: String]? = ["minimum": "5.00", "maximum": "50.00", "multipleOf": "0.01"]) -> DepositRequest {
        DepositRequest(id: id, generation: .legacyCashierRequest, status: "created", transactionIds: ["txn_1", "txn_2"],
                       customerId: customer, websiteId: website, currency: "USD", depositURL: "https://pay.example/d?x=1",
                       createdTime: created,
                       terms: DepositTerms(amounts: amounts, defaultAmount: "10.00", customAmount: custom,
                                           redirectUrl: "https://r.example/?a=1&b=2", notificationUrl: nil, expirationTime: expires))
    }

    @Test func requestsComeBackByCustomerExactly() throws {
        let dir = try TempDir()
        let ledgerPath = dir.path("ledger.sqlite")
        // A scratch file a crashed command left behind is replaced, not read.
        #expect(FileManager.default.createFile(atPath: ledgerPath + ".listing", contents: Data("left over".utf8)))
        let scratch = try DepositListingScratch(besideLedger: ledgerPath)
        let first = Self.request("dep_1", customer: "Cus_A")
        let bare = DepositRequest(id: "dep_2", customerId: "cus_a", websiteId: "WEB_1", currency: "USD")
        let empty = Self.request("dep_3", customer: "cus_b", amounts: [], custom: [:])
        try scratch.add([first, bare])
        try scratch.add([empty, first])   // dep_1 again: kept once
        #expect(try scratch.count() == 3)
        // No other process can lock the file and make a commit here fail.
        #expect(throws: DatabaseError.self) {
            let other = try DatabaseQueue(path: ledgerPath + ".listing")
            _ = try other.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM listed") }
        }

        let keyA = DepositListingScratch.key(customerID: "CUS_A", websiteID: "Web_1")
        let keyB = DepositListingScratch.key(customerID: "cus_b", websiteID: "web_1")
        let found = try scratch.requests(keys: [keyA, keyB, DepositListingScratch.key(customerID: "cus_none", websiteID: "web_1")])
        #expect(found.count == 2)
        #expect(found[keyA] == [first, bare], "both spellings of the customer, in the order listed, every field as added")
        #expect(found[keyB] == [empty], "an empty list stays empty, not absent")
        #expect(found[keyA]?.first?.createdTime == Self.created, "a fraction of a second survives")

        try scratch.removeWebsite("WEB_1")
        #expect(try scratch.count() == 0, "every request listed is web_1's, whatever its spelling")
        scratch.discard()
        #expect(!FileManager.default.fileExists(atPath: ledgerPath + ".listing"))
    }
}
