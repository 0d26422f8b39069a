import Foundation
import Testing
@testable import CashierModel

/// Ids are checked against Rebilly's id pattern `^[@~\-.\w]+$` and its 50-character limit
/// before anything is sent: a `,` `;` `!` `:` or space in an id would change a list filter.
@Suite struct RebillyIdTests {
    static let pattern = "must match Rebilly's id pattern (letters, digits and _ @ ~ - . only)"

    @Test(arguments: ["customerId", "websiteId", "deposit.strategyId", "deposit.customPropertySetId"])
    func filterCharactersAreRefusedWithAReason(_ field: String) {
        for (value, shown) in [("cus_1,cus_2", "','"), ("cus_1;websiteId:web_9", "';'"), ("!cus_1", "'!'"), ("cus 1", "' '"),
                               ("cus_é", "'é'"), ("a..b", nil)] {
            let found = issues(with([field: value])).filter { $0.field == field }
            if let shown {
                #expect(found.map(\.message) == ["\(Self.pattern): \(shown) is not allowed"], "\(field) \(value)")
            } else {
                #expect(found.isEmpty, "\(field) \(value): dots are allowed")
            }
        }
    }

    @Test func rebillysOwnIdsAndTheLengthLimit() {
        #expect(issues(with(["customerId": "cus_0YV7DDSDD1C8DA64KHH2W33CPF", "websiteId": "@web~1-a.b"])).isEmpty)
        let long = String(repeating: "a", count: 51)
        #expect(issues(with(["customerId": long])).map(\.message) == ["must be at most 50 characters (got 51)"])
        #expect(TextRules.idProblem("") == "must not be empty")
    }

    @Test func theFastPathAgreesWithTheRule() {
        for id in ["cus_1", "cus,1", "a;b", "x y", "@~-._", String(repeating: "z", count: 50), String(repeating: "z", count: 51)] {
            let plain = Array(id.utf8).withUnsafeBufferPointer { RowValidator.isPlainId($0) }
            #expect(plain == (TextRules.idProblem(id) == nil), "\(id)")
        }
    }

    @Test func rfc3339StringsAreWholeSecondsInUTC() {
        #expect(RFC3339.string(Date(timeIntervalSince1970: 1_800_000_000.999)) == "2027-01-15T08:00:00Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.string(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
        for t in stride(from: -86_400 * 400, to: 86_400 * 40_000, by: 86_400 * 37 + 3_617) {
            let text = RFC3339.string(Date(timeIntervalSince1970: Double(t) + 0.5))
            #expect(RFC3339.date(text)?.timeIntervalSince1970 == Double(t), "\(text)")
        }
    }
}
