/// The generation of Rebilly's API a night talks to. Rebilly does not version its API in
/// requests; the job names the generations by the date their cashier contract changed.
public enum APIVersion: String, Sendable, CaseIterable, Hashable {
    /// Since 2026-07-20: a cashier's `balance`, `bonusBalance` and `pendingPayoutTotal` are
    /// read-only (Rebilly computes them) and `canWithdraw` is reported.
    case v2026_07 = "2026-07"
    /// Before: `POST /cashiers` sets the three figures from the batch.
    case v2025_08 = "2025-08"

    /// The default of every command: today's API.
    public static let current = APIVersion.v2026_07

    /// Whether `POST /cashiers` carries the batch's three figures.
    public var sendsCashierFigures: Bool { self == .v2025_08 }
}
