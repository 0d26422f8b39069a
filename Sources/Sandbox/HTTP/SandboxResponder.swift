import Foundation
import Hummingbird
import Logging

/// Answers every request: routing (with or without the organization prefix), auth, the rate
/// limit, fault injection and one debug log line. The operations themselves live in
/// `SandboxAPI`; this type only decides whether and how they run.
struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxRequestContext

    let configuration: SandboxConfiguration
    let api: SandboxAPI
    let limiter: OrganizationWindows?
    let faults: FaultInjector
    /// `--echo-key`: answers that echo the presented key (nil: none).
    let keyEcho: KeyEcho?
    let stats: SandboxStats
    let pings: PingLog
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let method = request.method.rawValue
        let route = Route(method: method, path: request.uri.path)
        var plan = FaultInjector.Plan.none
        var result: JSONResponse
        var request = request

        if route.operation == .sandboxDepositForm {
            let response = api.depositForm(id: route.resourceId ?? "")
            logger.debug("\(method) \(request.uri.path) -> \(response.status.code)", metadata: ["operation": .string(route.operation.rawValue)])
            return response
        }
        if route.operation == .sandboxPing {
            let body = (try? await request.body.collect(upTo: 100_000)).map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? ""
            pings.record(.init(path: route.resourceId ?? "", method: method, body: body, receivedAt: Date()))
            result = JSONResponse(status: 200, body: .object([("status", .string("OK"))]))
        } else if route.operation == .sandboxForeignDepositRequest {
            result = authorized(request) ? await api.foreignDepositRequest(&request) : JSONResponse(status: 401, body: Problem.unauthorized)
        } else if route.operation == .sandboxCashierFigures {
            result = authorized(request)
                ? await api.setCashierFigures(id: route.resourceId ?? "", &request) : JSONResponse(status: 401, body: Problem.unauthorized)
        } else if route.operation == .sandboxDeleteCashier {
            result = authorized(request) ? api.deleteCashier(id: route.resourceId ?? "") : JSONResponse(status: 401, body: Problem.unauthorized)
        } else if route.operation.isInspection {
            result = inspect(route, request)
        } else {
            plan = faults.nextPlan()
            if let only = configuration.faultOperations, !only.contains(route.operation.rawValue) { plan.cancelFaults() }
            if let delay = plan.delay { try? await Task.sleep(for: delay) }
            result = await handleAPI(route, &request, plan: &plan)
            let outcome = plan.drop ? "dropped:\(result.status)" : String(result.status)
            stats.record(operation: route.operation.rawValue, outcome: outcome, plan: plan, method: method,
                         client: request.headers[.userAgent] ?? "")
        }

        let elapsed = ContinuousClock.now - started
        logger.debug(
            "\(method) \(request.uri.path) -> \(plan.drop ? "dropped (\(result.status))" : String(result.status))",
            metadata: [
                "operation": .string(route.operation.rawValue),
                "organization": .string(route.organizationId ?? configuration.defaultOrganizationId),
                "ms": .string(String(format: "%.2f", Double(elapsed.nanoseconds) / 1e6)),
                "fault": .string(plan.drop ? "drop" : plan.failStatus != nil ? "fail" : "none"),
            ]
        )

        if plan.drop {
            // The operation is committed; the client must not learn its outcome.
            await context.dropConnection()
        }
        return result.response()
    }

    private func authorized(_ request: Request) -> Bool {
        guard let name = HeaderField.Name("REB-APIKEY") else { return false }
        return request.headers[name] == configuration.apiKey
    }

    private func inspect(_ route: Route, _ request: Request) -> JSONResponse {
        if route.operation == .sandboxHealth { return JSONResponse(status: 200, body: .object([("status", .string("ok"))])) }
        guard authorized(request) else { return JSONResponse(status: 401, body: Problem.unauthorized) }
        switch route.operation {
        case .sandboxStats: return JSONResponse(status: 200, body: api.statsDocument(stats))
        case .sandboxPings: return JSONResponse(status: 200, body: pings.document())
        default: return JSONResponse(status: 200, body: api.stateDocument())
        }
    }

    private func handleAPI(_ route: Route, _ request: inout Request, plan: inout FaultInjector.Plan) async -> JSONResponse {
        if let keyEcho, let name = HeaderField.Name("REB-APIKEY"),
           let echo = keyEcho.answer(route.operation, key: request.headers[name] ?? "", accepted: authorized(request)) {
            plan.cancelFaults()
            return echo
        }
        // Requests refused before they reach an operation (401, 403, 429) are never failed or dropped.
        guard authorized(request) else {
            plan.cancelFaults()
            return JSONResponse(status: 401, body: Problem.unauthorized)
        }
        let organization = route.organizationId ?? configuration.defaultOrganizationId
        if let allowed = configuration.allowedOrganizations, let org = route.organizationId, !allowed.contains(org) {
            plan.cancelFaults()
            return JSONResponse(status: 403, body: Problem.forbidden(organization: org))
        }

        // Rebilly sends its quota on every answer; without `--rate` the sandbox shows Rebilly's
        // documented sandbox window (3000 non-GET requests per 10 minutes) as full: nothing is counted.
        var rateHeaders: [(String, String)] = [
            ("X-RateLimit-Limit", String(SandboxRate.rebillySandbox.limit)), ("X-RateLimit-Remaining", String(SandboxRate.rebillySandbox.limit)),
        ]
        if let limiter {
            if request.method != .get && route.operation != .notFound && route.operation != .methodNotAllowed {
                switch limiter.acquire(organization: organization) {
                case .allowed(let limit, let remaining):
                    rateHeaders = [("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Remaining", String(remaining))]
                case .limited(let limit, let retryAt):
                    plan.cancelFaults()
                    return JSONResponse(status: 429, body: Problem.tooManyRequests, headers: [
                        ("X-RateLimit-Limit", String(limit)), ("X-RateLimit-Remaining", "0"),
                        ("X-RateLimit-Retry-After", String(retryAt)),
                    ])
                }
            } else {
                rateHeaders = [
                    ("X-RateLimit-Limit", String(limiter.rate.limit)),
                    ("X-RateLimit-Remaining", String(limiter.remaining(organization: organization))),
                ]
            }
        }

        if let failStatus = plan.failStatus {
            stats.recordInjectedFailure()
            return JSONResponse(status: failStatus, body: Problem.injected(status: failStatus), headers: rateHeaders)
        }

        var result = await api.handle(route, &request)
        result.headers += rateHeaders
        return result
    }
}
