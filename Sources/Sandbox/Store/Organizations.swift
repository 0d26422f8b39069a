import Foundation

/// Rebilly keeps each organization's data apart: a cashier or deposit request made under
/// `/organizations/org_a` is not listed or found under `org_b`. One store per organization,
/// made on first use.
final class Organizations: Sendable {
    private let stores: Locked<[String: SandboxStore]>
    private let clock: SandboxClock

    /// The stores of the organizations `preload` names, each with its cashiers' `history`, as of
    /// `now` (by default the clock's).
    init(preload: [PreloadedCashier], defaultOrganizationId: String, now: Date? = nil,
         clock: SandboxClock = SandboxClock(), history: DepositHistory = DepositHistory(count: 0, seed: nil)) {
        self.clock = clock
        let now = now ?? clock.now()
        let byOrganization = Dictionary(grouping: preload) { $0.organizationId ?? defaultOrganizationId }
        stores = Locked(byOrganization.mapValues { SandboxStore(preload: $0, now: now, clock: clock, history: history) })
    }

    /// The organization's store.
    func store(_ organizationId: String) -> SandboxStore {
        stores.withLock { stores in
            if let store = stores[organizationId] { return store }
            let store = SandboxStore(preload: [], clock: clock)
            stores[organizationId] = store
            return store
        }
    }

    /// Every organization's store, by organization id (inspection).
    var all: [(organizationId: String, store: SandboxStore)] {
        stores.withLock { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// The cashier with this id in any organization (ids are globally unique).
    func cashier(id: String) -> (organizationId: String, store: SandboxStore)? {
        all.first { $0.store.cashier(id: id) != nil }
    }
}
