/// The reasons a row records with its move (`rows.reasons_json`), as a person reads them.
enum RowReasons {
    /// A failed call's reasons: Rebilly's own per field for a refused row, its message otherwise.
    static func of(_ failure: CallFailure, row: CashierRow) -> String {
        if failure.kind == .rowFinal, !failure.invalidFields.isEmpty {
            return FieldIssue.json(failure.invalidFields.map { FieldIssue(field: $0.field, message: explained($0, row: row)) })
        }
        return one(field: "api", message: failure.message)
    }

    /// Rebilly's reason, said plainly when it names a customer or website that does not exist:
    /// the operator must create it in Rebilly before the row can go.
    static func explained(_ issue: FieldIssue, row: CashierRow) -> String {
        let missing = ["not found", "does not exist", "not exist", "unknown"].contains { issue.message.lowercased().contains($0) }
        guard missing else { return issue.message }
        switch issue.field {
        case "customerId": return "customer \(Printable.text(row.cashier.customerId)) does not exist in Rebilly (create it first)"
        case "websiteId": return "website \(Printable.text(row.cashier.websiteId)) does not exist in Rebilly (create it first)"
        default: return issue.message
        }
    }

    static func one(field: String, message: String) -> String {
        FieldIssue.json([FieldIssue(field: field, message: message)])
    }
}
