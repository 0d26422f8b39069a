import Foundation

/// `GET /deposit-requests` query parameters, as strict as Rebilly's schema: `filter`, `sort`
/// (comma-separated members of `DepositRequest` marked `x-sortable`, `-` for descending), `limit`
/// and `offset` (`collectionLimit` and `collectionOffset`: 0–1000).
///
/// The filter is Rebilly's syntax ("Using filter with collections", `openapi/description.md` of
/// Rebilly/api-definitions): `field:value`; `;` joins fields with AND; `,` joins values with OR;
/// `!value` excludes a value (`!a,!b` excludes both); `a..b` is an inclusive range, open as
/// `a..` or `..b`; createdTime and updatedTime take RFC 3339 values, compared to the whole
/// second as Rebilly keeps them. Text matches case-insensitively. `@name` (a named list) is
/// Rebilly's too, but the sandbox has no lists and answers 422.
struct CollectionQuery: Sendable {
    static let filterableFields: Set<String> = ["id", "customerId", "websiteId", "currency", "status", "strategyId",
                                                "createdTime", "updatedTime"]
    static let timeFields: Set<String> = ["createdTime", "updatedTime"]
    /// The `x-sortable` members of Rebilly's `DepositRequest` (createdTime, updatedTime and currency
    /// through `CreatedTime`, `UpdatedTime` and `CurrencyCode`); `id` is not one.
    static let sortableFields = ["createdTime", "updatedTime", "currency"]
    /// `maximum` of `collectionLimit` and `collectionOffset`.
    static let maximumLimit = 1000, maximumOffset = 1000
    static let defaultLimit = 100

    /// One value of a clause: text, or a range; `negated` excludes what it matches.
    struct Value: Sendable, Equatable {
        enum Match: Sendable, Equatable {
            case text(String)
            case time(Int64)
            /// Bounds included; nil is open.
            case textRange(String?, String?)
            case timeRange(Int64?, Int64?)
        }
        var match: Match
        var negated: Bool
    }

    /// `field:v1,v2`: OR over its plain values, none of its negated ones.
    struct Clause: Sendable, Equatable {
        var field: String
        var values: [Value]
    }

    /// The clauses, all of which must hold (`;` is AND, also for a field named twice).
    var clauses: [Clause] = []
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
                let texts = clause[clause.index(after: colon)...].split(separator: ",")
                guard filterableFields.contains(field) else {
                    errors.append(InvalidField(field: "filter", message: "filter field '\(field)' is not supported"))
                    continue
                }
                guard !texts.isEmpty else {
                    errors.append(InvalidField(field: "filter", message: "filter field '\(field)' needs a value"))
                    continue
                }
                var values: [Value] = []
                for text in texts {
                    switch parseValue(text, field: field) {
                    case let .success(value): values.append(value)
                    case let .failure(problem): errors.append(problem.field)
                    }
                }
                query.clauses.append(Clause(field: field, values: values))
            }
        }
        if let sort, !sort.isEmpty {
            query.sort = []
            for key in sort.split(separator: ",") {
                let descending = key.hasPrefix("-")
                let field = String(descending ? key.dropFirst() : key)
                guard sortableFields.contains(field) else {
                    errors.append(InvalidField(field: "sort", message: field.isEmpty
                        ? "sort has an empty member"
                        : "sort member '\(field)' is not sortable (sortable: \(sortableFields.joined(separator: ", ")))"))
                    continue
                }
                query.sort.append((field, descending))
            }
        }
        for (name, text, maximum) in [("limit", limit, maximumLimit), ("offset", offset, maximumOffset)] {
            guard let text else { continue }
            guard let n = Int(text), (0...maximum).contains(n) else {
                errors.append(InvalidField(field: name, message: "\(name) must be an integer between 0 and \(maximum)"))
                continue
            }
            if name == "limit" { query.limit = n } else { query.offset = n }
        }
        if !errors.isEmpty { throw ValidationFailure(fields: errors) }
        return query
    }

    /// One value of `field`: `!` first, then a named list, a range or a plain value.
    static func parseValue(_ raw: Substring, field: String) -> Result<Value, Problem> {
        let negated = raw.hasPrefix("!")
        let text = negated ? raw.dropFirst() : raw
        if text.hasPrefix("@") {
            return .failure(Problem(field: "filter", message: "named lists are not supported by the sandbox ('\(raw)' in '\(field)')"))
        }
        let isTime = timeFields.contains(field)
        func time(_ part: Substring) -> Result<Int64, Problem> {
            guard let date = Timestamps.parse(String(part)) else {
                return .failure(Problem(field: "filter", message: "filter value '\(part)' of '\(field)' must be an RFC 3339 date-time"))
            }
            return .success(wholeSecond(date))
        }
        if let dots = text.range(of: "..") {
            let lower = text[..<dots.lowerBound], upper = text[dots.upperBound...]
            guard !(lower.isEmpty && upper.isEmpty) else {
                return .failure(Problem(field: "filter", message: "the range '\(raw)' of '\(field)' needs a bound"))
            }
            if isTime {
                var bounds: [Int64?] = []
                for part in [lower, upper] {
                    if part.isEmpty { bounds.append(nil); continue }
                    switch time(part) {
                    case let .success(second): bounds.append(second)
                    case let .failure(problem): return .failure(problem)
                    }
                }
                return .success(Value(match: .timeRange(bounds[0], bounds[1]), negated: negated))
            }
            return .success(Value(match: .textRange(lower.isEmpty ? nil : String(lower), upper.isEmpty ? nil : String(upper)),
                                  negated: negated))
        }
        guard !text.isEmpty else {
            return .failure(Problem(field: "filter", message: "filter field '\(field)' has an empty value '\(raw)'"))
        }
        if isTime { return time(text).map { Value(match: .time($0), negated: negated) } }
        return .success(Value(match: .text(String(text)), negated: negated))
    }

    /// A filter value the sandbox refuses, as the `invalidFields` item it answers.
    struct Problem: Error {
        var field: InvalidField
        init(field: String, message: String) { self.field = InvalidField(field: field, message: message) }
    }

    static func wholeSecond(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    /// What the query selects and in which order, without its page (`limit`, `offset`).
    var selection: String {
        "\(clauses)|" + sort.map { ($0.descending ? "-" : "") + $0.field }.joined(separator: ",")
    }

    func matches(_ r: DepositRequestRecord) -> Bool {
        clauses.allSatisfy { Self.holds($0, for: r) }
    }

    static func holds(_ clause: Clause, for r: DepositRequestRecord) -> Bool {
        var text: String?
        var second: Int64?
        switch clause.field {
        case "id": text = r.id
        case "customerId": text = r.input.customerId
        case "websiteId": text = r.input.websiteId
        case "currency": text = r.input.currency
        case "status": text = r.status
        case "strategyId": text = r.input.strategyId
        case "createdTime": second = wholeSecond(r.createdTime)
        case "updatedTime": second = wholeSecond(r.updatedTime)
        default: break
        }
        var anyPlain = false, plainMatched = false
        for value in clause.values {
            let hit: Bool
            switch value.match {
            case let .text(wanted): hit = text.map { sameText($0, wanted) } ?? false
            case let .time(wanted): hit = second == wanted
            case let .textRange(lower, upper):
                hit = text.map { t in
                    (lower.map { compareText(t, $0) >= 0 } ?? true) && (upper.map { compareText(t, $0) <= 0 } ?? true)
                } ?? false
            case let .timeRange(lower, upper):
                hit = second.map { s in (lower.map { s >= $0 } ?? true) && (upper.map { s <= $0 } ?? true) } ?? false
            }
            if value.negated {
                if hit { return false }
            } else {
                anyPlain = true
                if hit { plainMatched = true }
            }
        }
        return !anyPlain || plainMatched
    }

    /// The customerIds a query can only match (a customerId clause of plain values only); nil: any.
    var customerCandidates: [String]? {
        for clause in clauses where clause.field == "customerId" {
            var wanted: [String] = []
            for value in clause.values {
                guard !value.negated, case let .text(text) = value.match else { wanted = []; break }
                wanted.append(text)
            }
            if !wanted.isEmpty { return wanted }
        }
        return nil
    }

    /// The one customerId a query can only match (a customerId clause of one plain value); nil: any or several.
    var customerCandidate: String? {
        guard let customers = customerCandidates, customers.count == 1 else { return nil }
        return customers[0]
    }

    /// The one websiteId a query can only match (a websiteId clause of one plain value); nil: any or several.
    var websiteCandidate: String? {
        for clause in clauses where clause.field == "websiteId" && clause.values.count == 1 {
            if !clause.values[0].negated, case let .text(text) = clause.values[0].match { return text }
        }
        return nil
    }

    /// Whole seconds every match's createdTime lies within, by the createdTime clauses of one plain
    /// value (nil: unbounded on that side).
    var createdTimeWindow: (lower: Int64?, upper: Int64?) {
        var lower: Int64?, upper: Int64?
        for clause in clauses where clause.field == "createdTime" && clause.values.count == 1 && !clause.values[0].negated {
            let bounds: (Int64?, Int64?)
            switch clause.values[0].match {
            case let .time(second): bounds = (second, second)
            case let .timeRange(low, high): bounds = (low, high)
            default: continue
            }
            if let low = bounds.0 { lower = max(lower ?? low, low) }
            if let high = bounds.1 { upper = min(upper ?? high, high) }
        }
        return (lower, upper)
    }

    /// Case-insensitive equality, as Rebilly matches filter values: ASCII fast, Unicode lower case otherwise.
    static func sameText(_ a: String, _ b: String) -> Bool {
        var ascii = true
        if a.utf8.count == b.utf8.count {
            var equal = true
            for (x, y) in zip(a.utf8, b.utf8) {
                if x >= 0x80 || y >= 0x80 { ascii = false; break }
                if x != y, lowerASCII(x) != lowerASCII(y) { equal = false; break }
            }
            if ascii { return equal }
        } else if a.utf8.allSatisfy({ $0 < 0x80 }) && b.utf8.allSatisfy({ $0 < 0x80 }) {
            return false
        }
        return a.lowercased() == b.lowercased()
    }

    /// Case-insensitive order of two texts (for text ranges).
    static func compareText(_ a: String, _ b: String) -> Int {
        let x = a.lowercased(), y = b.lowercased()
        return x == y ? 0 : (x < y ? -1 : 1)
    }

    private static func lowerASCII(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

    /// Rebilly keeps times to the second: two requests of one second tie on createdTime, and the
    /// next key decides. What no key decides is in an order of the sandbox's own (`tieBreak`), never
    /// by id or creation: Rebilly defines none, so a client that pages must not need one.
    func areInOrder(_ a: DepositRequestRecord, _ b: DepositRequestRecord) -> Bool {
        for (field, descending) in sort {
            let order: Bool?
            switch field {
            case "createdTime":
                let (x, y) = (Self.wholeSecond(a.createdTime), Self.wholeSecond(b.createdTime))
                order = x == y ? nil : x < y
            case "updatedTime":
                let (x, y) = (Self.wholeSecond(a.updatedTime), Self.wholeSecond(b.updatedTime))
                order = x == y ? nil : x < y
            case "currency":
                order = a.input.currency == b.input.currency ? nil : a.input.currency < b.input.currency
            default: order = nil
            }
            if let order { return descending ? !order : order }
        }
        let (x, y) = (a.tieBreak, b.tieBreak)
        return x != y ? x < y : a.sequence < b.sequence
    }
}
