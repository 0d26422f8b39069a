/// What a request path and method address: one of the five contract operations, an inspection
/// endpoint, or nothing. Paths may carry the `/organizations/{organizationId}` prefix.
struct Route: Sendable, Equatable {
    enum Operation: String, Sendable {
        case postCashier = "PostCashier"
        case getCashier = "GetCashier"
        case postDepositRequest = "PostDepositRequest"
        case getDepositRequestCollection = "GetDepositRequestCollection"
        case getDepositRequest = "GetDepositRequest"
        case sandboxStats = "SandboxStats"
        case sandboxCashiers = "SandboxCashiers"
        case sandboxHealth = "SandboxHealth"
        /// A monitoring ping (`/_sandbox/ping/{check…}`), recorded for `/_sandbox/pings`.
        case sandboxPing = "SandboxPing"
        case sandboxPings = "SandboxPings"
        /// The hosted deposit form a deposit request's `deposit` link points to.
        case sandboxDepositForm = "SandboxDepositForm"
        /// `POST /_sandbox/deposit-requests`: another client of the organization creates a deposit
        /// request (with its own `createdTime`, if given), as the operator's own site does all day.
        case sandboxForeignDepositRequest = "SandboxForeignDepositRequest"
        /// `POST /_sandbox/cashiers/{id}/figures`: Rebilly's own activity moves a cashier's figures.
        case sandboxCashierFigures = "SandboxCashierFigures"
        /// `DELETE /_sandbox/cashiers/{id}`: the cashier is deleted at Rebilly.
        case sandboxDeleteCashier = "SandboxDeleteCashier"
        /// Known path, wrong method.
        case methodNotAllowed = "MethodNotAllowed"
        /// Unknown path, or an id that cannot exist.
        case notFound = "NotFound"

        var isInspection: Bool {
            self == .sandboxStats || self == .sandboxCashiers || self == .sandboxHealth || self == .sandboxDepositForm
                || self == .sandboxPing || self == .sandboxPings || self == .sandboxForeignDepositRequest
                || self == .sandboxCashierFigures || self == .sandboxDeleteCashier
        }
    }

    var operation: Operation
    /// The organization from the path prefix; nil when the path had none.
    var organizationId: String?
    /// `/organizations/{id}` or "", for building links the way the client addressed us.
    var pathPrefix: String
    /// The `{id}` path parameter.
    var resourceId: String?
    /// For `.methodNotAllowed`: the methods the path accepts.
    var allowedMethods: [String] = []

    init(method: String, path: String) {
        var segments = path.split(separator: "/", omittingEmptySubsequences: true)
        organizationId = nil
        pathPrefix = ""
        resourceId = nil
        if segments.count >= 3, segments[0] == "organizations" {
            organizationId = String(segments[1])
            pathPrefix = "/organizations/\(segments[1])"
            segments.removeFirst(2)
        }
        let prefixed = organizationId != nil
        func pick(_ table: [String: Operation]) -> Operation {
            if let op = table[method] { return op }
            return .methodNotAllowed
        }
        var table: [String: Operation] = [:]
        switch segments.count {
        case 1 where segments[0] == "cashiers":
            table = ["POST": .postCashier]
        case 1 where segments[0] == "deposit-requests":
            table = ["POST": .postDepositRequest, "GET": .getDepositRequestCollection]
        case 2 where segments[0] == "cashiers" && FieldFormats.isResourceID(segments[1]):
            table = ["GET": .getCashier]
            resourceId = String(segments[1])
        case 2 where segments[0] == "deposit-requests" && FieldFormats.isResourceID(segments[1]):
            table = ["GET": .getDepositRequest]
            resourceId = String(segments[1])
        case 2 where segments[0] == "_sandbox" && !prefixed:
            switch segments[1] {
            case "stats": table = ["GET": .sandboxStats]
            case "cashiers": table = ["GET": .sandboxCashiers]
            case "health": table = ["GET": .sandboxHealth]
            case "pings": table = ["GET": .sandboxPings]
            case "deposit-requests": table = ["POST": .sandboxForeignDepositRequest]
            default: break
            }
        case 3... where segments[0] == "_sandbox" && segments[1] == "ping" && !prefixed:
            // Healthchecks accepts GET, HEAD and POST on every ping URL.
            table = ["GET": .sandboxPing, "HEAD": .sandboxPing, "POST": .sandboxPing]
            resourceId = segments[2...].joined(separator: "/")
        case 4 where segments[0] == "_sandbox" && segments[1] == "cashiers" && segments[3] == "figures" && !prefixed
            && FieldFormats.isResourceID(segments[2]):
            table = ["POST": .sandboxCashierFigures]
            resourceId = String(segments[2])
        case 3 where segments[0] == "_sandbox" && segments[1] == "cashiers" && !prefixed && FieldFormats.isResourceID(segments[2]):
            table = ["DELETE": .sandboxDeleteCashier]
            resourceId = String(segments[2])
        case 3 where segments[0] == "_sandbox" && segments[1] == "deposit-form" && !prefixed && FieldFormats.isResourceID(segments[2]):
            table = ["GET": .sandboxDepositForm]
            resourceId = String(segments[2])
        default: break
        }
        if table.isEmpty {
            operation = .notFound
        } else {
            operation = pick(table)
            if operation == .methodNotAllowed { allowedMethods = table.keys.sorted() }
        }
    }
}
