/// How a row's pass ended (an `Error` only so that it can end a `Result`).
public enum RowOutcome: Error, Sendable, Equatable { case done, rejected, failed, inDoubt, needsReview, stopped }
