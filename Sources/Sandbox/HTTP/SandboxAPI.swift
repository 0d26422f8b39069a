import Foundation
import Hummingbird

/// The five contract operations and the inspection documents, on top of each organization's
/// `SandboxStore`. Inputs are validated here, against the contract as the sandbox reads it.
struct SandboxAPI: Sendable {
    let organizations: Organizations
    /// `http://HOST:PORT`, known once the server has bound its port.
    let baseURL: Locked<String>
    let maxBodySize: Int
    let readonlyFields: ReadonlyFieldsPolicy
    let requiredCustomers: Set<String>?
    let defaultOrganizationId: String
    let foreignDeposits: ForeignDeposits
    let requireCashierForDeposits: Bool

    init(configuration: SandboxConfiguration, baseURL: Locked<String>, clock: SandboxClock) {
        organizations = Organizations(
            preload: configuration.preload, defaultOrganizationId: configuration.defaultOrganizationId, clock: clock,
            history: DepositHistory(count: configuration.history, seed: configuration.seed)
        )
        self.baseURL = baseURL
        maxBodySize = configuration.maxBodySize
        readonlyFields = configuration.readonlyFields
        requiredCustomers = configuration.requiredCustomers
        defaultOrganizationId = configuration.defaultOrganizationId
        foreignDeposits = ForeignDeposits(rate: configuration.foreignDepositRate, seed: configuration.seed)
        requireCashierForDeposits = configuration.requireCashierForDeposits
    }

    /// 422 on `customerId` for a customer the organization does not hold (`--require-customers`).
    func requireCustomer(_ customerId: String) throws(ValidationFailure) {
        guard let requiredCustomers, !requiredCustomers.contains(customerId) else { return }
        throw ValidationFailure(fields: [InvalidField(field: "customerId", message: "Customer \(customerId) not found")])
    }

    func handle(_ route: Route, _ request: inout Request) async -> JSONResponse {
        let links = ResourceLinks(baseURL: baseURL.withLock { $0 }, pathPrefix: route.pathPrefix)
        let store = organizations.store(route.organizationId ?? defaultOrganizationId)
        switch route.operation {
        case .postCashier:
            return await withBody(&request) { (body: JSONValue) throws(ValidationFailure) -> JSONResponse in
                let input = try CashierInput.validate(body, figures: .readOnly(readonlyFields))
                try requireCustomer(input.customerId)
                let (cashier, created) = store.findOrCreateCashier(input)
                var headers: [(String, String)] = []
                if created { headers.append(("Location", links.url("/cashiers/\(cashier.id)"))) }
                return JSONResponse(status: created ? 201 : 200, body: cashier.resource(links: links), headers: headers)
            }
        case .getCashier:
            guard let id = route.resourceId, let cashier = store.cashier(id: id) else {
                return JSONResponse(status: 404, body: Problem.notFound("Cashier not found"))
            }
            return JSONResponse(status: 200, body: cashier.resource(links: links))
        case .postDepositRequest:
            return await withBody(&request) { (body: JSONValue) throws(ValidationFailure) -> JSONResponse in
                let input = try DepositRequestInput.validate(body)
                try requireCustomer(input.customerId)
                if requireCashierForDeposits,
                   !store.hasCashier(CashierKey(customerId: input.customerId, websiteId: input.websiteId, currency: input.currency)) {
                    throw ValidationFailure(fields: [InvalidField(field: "customerId", message: Self.noCashierMessage)])
                }
                let record = store.createDepositRequest(input)
                foreignDeposits.follow(record, in: store)
                return JSONResponse(
                    status: 201, body: record.resource(links: links),
                    headers: [("Location", links.url("/deposit-requests/\(record.id)"))]
                )
            }
        case .getDepositRequest:
            guard let id = route.resourceId, let record = store.depositRequest(id: id) else {
                return JSONResponse(status: 404, body: Problem.notFound("Deposit request not found"))
            }
            return JSONResponse(status: 200, body: record.resource(links: links))
        case .getDepositRequestCollection:
            let parameters = request.uri.queryParameters
            let query: CollectionQuery
            do {
                query = try CollectionQuery.parse(
                    filter: parameters["filter"].map(String.init), sort: parameters["sort"].map(String.init),
                    limit: parameters["limit"].map(String.init), offset: parameters["offset"].map(String.init)
                )
            } catch {
                return JSONResponse(status: 422, body: Problem.validation(error.fields))
            }
            let (page, total) = store.depositRequests(query)
            return JSONResponse(status: 200, body: .array(page.map { $0.resource(links: links) }), headers: [
                ("Pagination-Total", String(total)), ("Pagination-Limit", String(query.limit)),
                ("Pagination-Offset", String(query.offset)),
            ])
        case .methodNotAllowed:
            return JSONResponse(
                status: 405,
                body: Problem.body(status: 405, title: "Method Not Allowed", detail: "\(request.method.rawValue) is not allowed on \(request.uri.path)"),
                headers: [("Allow", route.allowedMethods.joined(separator: ", "))]
            )
        case .notFound, .sandboxStats, .sandboxCashiers, .sandboxHealth, .sandboxDepositForm, .sandboxPing, .sandboxPings,
             .sandboxForeignDepositRequest, .sandboxCashierFigures, .sandboxDeleteCashier:
            return JSONResponse(status: 404, body: Problem.notFound("No resource at \(request.uri.path)"))
        }
    }

    /// `POST /_sandbox/deposit-requests`: a deposit request made by another client (the
    /// operator's site), validated like the API's, created at `createdTime` when the body gives
    /// one (RFC 3339), else now by the server's clock, in `organizationId` when given. Not
    /// counted in the API's statistics.
    func foreignDepositRequest(_ request: inout Request) async -> JSONResponse {
        let links = ResourceLinks(baseURL: baseURL.withLock { $0 }, pathPrefix: "")
        return await withBody(&request) { (body: JSONValue) throws(ValidationFailure) -> JSONResponse in
            guard case let .object(members) = body else { return JSONResponse(status: 400, body: Problem.body(status: 400, title: "Bad Request", detail: "the body must be an object")) }
            var organization = defaultOrganizationId
            if let value = body["organizationId"] {
                guard case let .string(org) = value, FieldFormats.isResourceID(org[...]) else {
                    return JSONResponse(status: 400, body: Problem.body(status: 400, title: "Bad Request", detail: "organizationId must be an id"))
                }
                organization = org
            }
            var created: Date?
            if let text = body["createdTime"] {
                guard case let .string(value) = text, let date = Timestamps.parse(value) else {
                    return JSONResponse(status: 400, body: Problem.body(status: 400, title: "Bad Request", detail: "createdTime must be an RFC 3339 date-time"))
                }
                created = date
            }
            let input = try DepositRequestInput.validate(.object(members.filter { $0.0 != "createdTime" && $0.0 != "organizationId" }))
            let record = organizations.store(organization).createDepositRequest(input, now: created, foreign: true)
            return JSONResponse(status: 201, body: record.resource(links: links))
        }
    }

    /// The `customerId` message of a deposit request whose cashier does not exist (`requireCashierForDeposits`).
    static let noCashierMessage = "no cashier for this customer, website and currency"

    /// `DELETE /_sandbox/cashiers/{id}`: the cashier is deleted at Rebilly (200 `{"id","deleted":true}`; 404 for an unknown id).
    func deleteCashier(id: String) -> JSONResponse {
        guard let (_, store) = organizations.cashier(id: id), store.deleteCashier(id: id) else {
            return JSONResponse(status: 404, body: Problem.notFound("Cashier not found"))
        }
        return JSONResponse(status: 200, body: .object([("id", .string(id)), ("deleted", .bool(true))]))
    }

    /// `POST /_sandbox/cashiers/{id}/figures`: Rebilly's side of the day (deposits, payouts,
    /// bonuses) moves a cashier's figures. Body: any of `balance`, `bonusBalance`,
    /// `pendingPayoutTotal` (numbers ≥ 0) and `canWithdraw` (boolean). Answers the cashier.
    func setCashierFigures(id: String, _ request: inout Request) async -> JSONResponse {
        guard let (organization, store) = organizations.cashier(id: id) else {
            return JSONResponse(status: 404, body: Problem.notFound("Cashier not found"))
        }
        let prefix = organization == defaultOrganizationId ? "" : "/organizations/\(organization)"
        let links = ResourceLinks(baseURL: baseURL.withLock { $0 }, pathPrefix: prefix)
        return await withBody(&request) { (body: JSONValue) throws(ValidationFailure) -> JSONResponse in
            var v = BodyValidator()
            guard let members = v.object(body, at: "body") else { throw ValidationFailure(fields: v.errors) }
            v.rejectUnknown(members, allowed: CashierInput.figureFields + ["canWithdraw"], prefix: "")
            let balance = v.number(body, "balance", minimum: 0)
            let bonusBalance = v.number(body, "bonusBalance", minimum: 0)
            let pendingPayoutTotal = v.number(body, "pendingPayoutTotal", minimum: 0)
            var canWithdraw: Bool?
            switch body["canWithdraw"] {
            case nil: break
            case .bool(let flag)?: canWithdraw = flag
            case _?: v.fail("canWithdraw", "canWithdraw must be true or false")
            }
            guard v.errors.isEmpty, let cashier = store.setFigures(
                id: id, balance: balance, bonusBalance: bonusBalance, pendingPayoutTotal: pendingPayoutTotal, canWithdraw: canWithdraw)
            else { throw ValidationFailure(fields: v.errors) }
            return JSONResponse(status: 200, body: cashier.resource(links: links))
        }
    }

    /// Reads and parses the JSON body, then runs `operation`; 400 for unreadable JSON,
    /// 413 for an oversized body, 422 for contract violations.
    private func withBody(
        _ request: inout Request,
        _ operation: (JSONValue) throws(ValidationFailure) -> JSONResponse
    ) async -> JSONResponse {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBodySize)
        } catch {
            return JSONResponse(status: 413, body: Problem.body(status: 413, title: "Content Too Large", detail: "The request body exceeds \(maxBodySize) bytes"))
        }
        let body: JSONValue
        do {
            body = try JSONParser.parse(Array(buffer.readableBytesView))
        } catch {
            return JSONResponse(status: 400, body: Problem.body(status: 400, title: "Bad Request", detail: "Malformed JSON: \(error.description)"))
        }
        do {
            return try operation(body)
        } catch {
            return JSONResponse(status: 422, body: Problem.validation(error.fields))
        }
    }

    /// `GET /_sandbox/stats`: counters plus what the store holds, including deposit requests per
    /// (customerId, websiteId, currency) so duplicates stand out.
    /// Deposit requests other clients made are counted apart (`foreignDepositRequests`), and of
    /// those the ones made before the start (`historyDepositRequests`).
    func statsDocument(_ stats: SandboxStats) -> JSONValue {
        let everything = organizations.all.map { $0.store.snapshot() }
        let cashiers = everything.flatMap(\.cashiers)
        let all = everything.flatMap(\.depositRequests)
        let deposits = all.filter { !$0.foreign }
        var perKey: [CashierKey: Int] = [:]
        for d in deposits { perKey[d.key, default: 0] += 1 }
        let rows: [JSONValue] = perKey.keys.sorted().map { key in
            .object([
                ("customerId", .string(key.customerId)), ("websiteId", .string(key.websiteId)),
                ("currency", .string(key.currency)), ("count", .int(perKey[key]!)),
            ])
        }
        return .object(stats.json() + [
            ("cashiers", .int(cashiers.count)),
            ("preloadedCashiers", .int(cashiers.filter(\.preloaded).count)),
            ("depositRequests", .int(deposits.count)),
            ("foreignDepositRequests", .int(all.count - deposits.count)),
            ("historyDepositRequests", .int(all.count(where: \.history))),
            ("depositRequestsPerCashier", .array(rows)),
            ("duplicateDepositRequests", .int(perKey.values.filter { $0 > 1 }.count)),
        ])
    }

    /// `GET /_sandbox/cashiers`: every cashier (with write-only fields) and every deposit
    /// request of every organization, each with its `organizationId` (and `foreign` and `history`
    /// for requests).
    func stateDocument() -> JSONValue {
        let links = ResourceLinks(baseURL: baseURL.withLock { $0 }, pathPrefix: "")
        var cashiers: [JSONValue] = [], deposits: [JSONValue] = []
        for (organization, store) in organizations.all {
            let (c, d) = store.snapshot()
            cashiers += c.map { $0.inspection().appending(("organizationId", .string(organization))) }
            deposits += d.map {
                $0.resource(links: links).appending(("organizationId", .string(organization))).appending(("foreign", .bool($0.foreign)))
                    .appending(("history", .bool($0.history)))
            }
        }
        return .object([("cashiers", .array(cashiers)), ("depositRequests", .array(deposits))])
    }

    /// A minimal stand-in for Rebilly's hosted deposit form (no auth, like the real link).
    func depositForm(id: String) -> Response {
        guard let record = organizations.all.lazy.compactMap({ $0.store.depositRequest(id: id) }).first else {
            return JSONResponse(status: 404, body: Problem.notFound("Deposit request not found")).response()
        }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let amounts = record.input.amounts.map { $0.map(\.literal) } ?? ["10", "20", "30"]
        let html = """
            <!doctype html><html><head><meta charset="utf-8"><title>Sandbox deposit</title></head><body>
            <h1>Sandbox hosted deposit form</h1>
            <p>Deposit request <code>\(escape(record.id))</code> for customer <code>\(escape(record.input.customerId))</code>,
            website <code>\(escape(record.input.websiteId))</code>: \(escape(record.input.currency)) \(escape(amounts.joined(separator: " / ")))</p>
            <p>Status: \(record.status). This page is a placeholder; no payment can be made here.</p>
            </body></html>
            """
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
