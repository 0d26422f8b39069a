import Testing
@testable import CashierModel

/// The batch contract's storage indices are the ledger's layout: every stored request
/// (`rows.request`) and the ledger's views read a field at its index. They are pinned here, so a
/// renumbered or reused index fails this test instead of misreading every ledger.
@Suite struct FieldStorageTests {
    /// Every field with its storage index, as ledgers since v11 hold them. Append only.
    static let pinned: [(index: Int, name: String)] = [
        (0, "websiteId"), (1, "customerId"), (2, "currency"),
        (3, "balance"), (4, "bonusBalance"), (5, "pendingPayoutTotal"),
        (6, "depositLimits.minimum"), (7, "depositLimits.maximum"),
        (8, "redirectUrl"), (9, "notificationUrl"),
        (10, "deposit.strategyId"), (11, "deposit.amounts"),
        (12, "deposit.customAmount.minimum"), (13, "deposit.customAmount.maximum"), (14, "deposit.customAmount.multipleOf"),
        (15, "deposit.amountLimits.minimum"), (16, "deposit.amountLimits.maximum"),
        (17, "deposit.redirectUrl"), (18, "deposit.notificationUrl"), (19, "deposit.expirationTime"),
        (20, "deposit.customPropertySetId"),
    ]

    @Test func everyFieldKeepsItsStorageIndex() {
        #expect(Field.byIndex.map { [$0.rawValue: $0.name] } == Self.pinned.map { [$0.index: $0.name] })
        #expect(Field.allCases.count == Self.pinned.count, "a new field takes index \(Self.pinned.count) and a line above")
        for (index, name) in Self.pinned {
            #expect(Field(rawValue: index)?.name == name)
            #expect(Field(name: name)?.rawValue == index)
        }
    }

    /// A stored request's element `i` is the field at index `i + 3` (the key lives in columns).
    @Test func aStoredRequestIsReadByIndex() throws {
        #expect(RowRequest.fields.map(\.rawValue) == Array(3...20))
        let keyed = #"{"deposit.expirationTime":"2026-12-08T05:00:00Z","balance":"12.50","deposit.amounts":["10.00","20.00"]}"#
        #expect(try RowRequest.positional(keyed: keyed)
            == #"["12.50",null,null,null,null,null,null,null,["10.00","20.00"],null,null,null,null,null,null,null,"2026-12-08T05:00:00Z"]"#)
    }
}
