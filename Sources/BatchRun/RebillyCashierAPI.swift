import CashierModel
import RebillyClient

/// The real `CashierAPI`: Rebilly (or the sandbox) through `RebillyClient`.
public struct RebillyCashierAPI: CashierAPI {
    public let client: RebillyClient

    public init(client: RebillyClient) { self.client = client }

    public func createCashier(body: String) async -> Result<CashierReply, APIFailure> {
        do {
            let result = try await client.createCashier(body: body)
            let c = result.cashier
            var reply = CashierReply(
                id: c.id, httpStatus: result.status, latencyMs: Self.ms(result.latency),
                balance: c.balance?.text, bonusBalance: c.bonusBalance?.text, pendingPayoutTotal: c.pendingPayoutTotal?.text)
            reply.quota = Quota(limit: result.rateLimit.limit, remaining: result.rateLimit.remaining)
            return .success(reply)
        } catch {
            return .failure(Self.failure(error))
        }
    }

    public func createDepositRequest(body: String) async -> Result<DepositReply, APIFailure> {
        do {
            let result = try await client.createDepositRequest(body: body)
            let d = result.depositRequest
            var reply = DepositReply(id: d.id, currency: d.currency, createdTime: d.createdTime,
                                     httpStatus: result.status, latencyMs: Self.ms(result.latency))
            reply.quota = Quota(limit: result.rateLimit.limit, remaining: result.rateLimit.remaining)
            return .success(reply)
        } catch {
            return .failure(Self.failure(error))
        }
    }

    public func listDepositRequests(customerId: String, websiteId: String) async -> Result<DepositList, APIFailure> {
        do {
            let page = try await client.listDepositRequests(customerId: customerId, websiteId: websiteId)
            let items = page.items.map {
                DepositReply(id: $0.id, currency: $0.currency, createdTime: $0.createdTime, httpStatus: 200, latencyMs: Self.ms(page.latency))
            }
            var list = DepositList(items: items, httpStatus: 200, latencyMs: Self.ms(page.latency))
            list.quota = Quota(limit: page.rateLimit.limit, remaining: page.rateLimit.remaining)
            return .success(list)
        } catch {
            return .failure(Self.failure(error))
        }
    }

    static func ms(_ d: Duration) -> Int {
        Int(d.components.seconds) * 1000 + Int(d.components.attoseconds / 1_000_000_000_000_000)
    }

    static func failure(_ error: RebillyError) -> APIFailure {
        let kind: APIFailure.Kind
        switch error.classification {
        case .retryable: kind = .retryable
        case .rejected: kind = .rejected(invalidFields: error.invalidFields)
        case .fatal: kind = .fatal
        }
        var retryAfter: Double?
        if let instant = error.rateLimit.retryAfter {
            let wait = ContinuousClock.now.duration(to: instant)
            retryAfter = max(0, Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18)
        }
        return APIFailure(kind: kind, httpStatus: error.status, message: error.description,
                          latencyMs: ms(error.latency), mayHaveBeenApplied: error.mayHaveBeenApplied,
                          retryAfterSeconds: retryAfter)
    }
}
