/// What a person decided for a `needs_review` row (`cashier-batch resolve`).
public enum ResolveAction: String, Sendable, CaseIterable {
    /// This deposit request is the row's: the row is done with it.
    case adopt
    /// None of the listed ones is the row's: the next `retry` sends a new one.
    case resend
}
