/// `GET /deposit-requests` query parameters: `filter` (`field:v1,v2;field2:v`), `sort`
/// (`-createdTime`, comma-separated keys), `limit` and `offset` (0–1000).
struct CollectionQuery: Sendable {
    static let filterableFields: Set<String> = ["id", "customerId", "websiteId", "currency", "status", "strategyId"]
    static let sortableFields: Set<String> = ["createdTime", "updatedTime", "id"]
    static let defaultLimit = 100

    var filters: [String: Set<String>] = [:]
    var sort: [(field: String, descending: Bool)] = [("createdTime", true)]
    var limit = CollectionQuery.defaultLimit
    var offset = 0

    /// Parses the raw query values; problems come back as `invalidFields` named after the parameter.
    static func parse(filter: String?, sort: String?, limit: String?, offset: String?) throws(ValidationFailure) -> CollectionQuery {
        var query = CollectionQuery()
        var errors: [InvalidField] = []
        if let filter, !filter.isEmpty {
            for clause in filter.split(separator: ";", omittingEmptySubsequences: true) {
                guard let colon = clause.firstIndex(of: ":") else {
                    errors.append(InvalidField(field: "filter", message: "filter clause '\(clause)' must be field:value"))
                    continue
                }
                let field = String(clause[..<colon])
                let values = clause[clause.index(after: colon)...].split(separator: ",").map(String.init)
                guard filterableFields.contains(field) else {
                    errors.append(InvalidField(field: "filter", message: "filter field '\(field)' is not supported"))
                    continue
                }
                guard !values.isEmpty else {
                    errors.append(InvalidField(field: "filter", message: "filter field '\(field)' needs a value"))
                    continue
                }
                query.filters[field, default: []].formUnion(values)
            }
        }
        if let sort, !sort.isEmpty {
            query.sort = []
            for key in sort.split(separator: ",") {
                let descending = key.hasPrefix("-")
                let field = String(descending ? key.dropFirst() : key)
                guard sortableFields.contains(field) else {
                    errors.append(InvalidField(field: "sort", message: "sort field '\(field)' is not supported"))
                    continue
                }
                query.sort.append((field, descending))
            }
        }
        for (name, text) in [("limit", limit), ("offset", offset)] {
            guard let text else { continue }
            guard let n = Int(text), (0...1000).contains(n) else {
                errors.append(InvalidField(field: name, message: "\(name) must be an integer between 0 and 1000"))
                continue
            }
            if name == "limit" { query.limit = n } else { query.offset = n }
        }
        if !errors.isEmpty { throw ValidationFailure(fields: errors) }
        return query
    }

    func matches(_ r: DepositRequestRecord) -> Bool {
        for (field, values) in filters {
            let actual: String?
            switch field {
            case "id": actual = r.id
            case "customerId": actual = r.input.customerId
            case "websiteId": actual = r.input.websiteId
            case "currency": actual = r.input.currency
            case "status": actual = r.status
            case "strategyId": actual = r.input.strategyId
            default: actual = nil
            }
            guard let actual, values.contains(actual) else { return false }
        }
        return true
    }

    func areInOrder(_ a: DepositRequestRecord, _ b: DepositRequestRecord) -> Bool {
        for (field, descending) in sort {
            let order: Bool?
            switch field {
            case "createdTime": order = a.createdTime == b.createdTime ? nil : a.createdTime < b.createdTime
            case "updatedTime": order = a.updatedTime == b.updatedTime ? nil : a.updatedTime < b.updatedTime
            case "id": order = a.id == b.id ? nil : a.id < b.id
            default: order = nil
            }
            if let order { return descending ? !order : order }
        }
        // Ties (same second): creation order, following the direction of the first key.
        let descending = sort.first?.descending ?? false
        return descending ? a.sequence > b.sequence : a.sequence < b.sequence
    }
}
