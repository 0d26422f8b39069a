// What a run, a batch's control manifest and a break are in their lives. The ledger stores each as
// TEXT, and its schema lists every raw value in a CHECK constraint (`LedgerSchema`).

/// The lifecycle of one invocation of the job (`runs.status`).
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    /// The run has started and has not been closed yet (or its process died and
    /// nobody has noticed yet; see ``Ledger/recoverCrashedRuns(currentRunID:)``).
    case running
    /// The run went to its end (whatever its exit code).
    case finished
    /// The run was stopped by SIGINT/SIGTERM and closed itself cleanly.
    case interrupted
    /// The run's process died without closing the run (kill -9, power loss, crash);
    /// set by a later run during recovery.
    case crashed
}

/// What the control manifest (`<file>.control.json`) said (`batches.control_verdict`).
public enum ControlVerdict: String, Sendable, CaseIterable, Codable {
    /// No manifest next to the batch.
    case absent
    /// The manifest's row count and per-currency totals matched the batch.
    case matched
    /// They did not; the batch was refused (`control_detail` says why).
    case mismatch
}

/// Where a reconciliation break is in its life across runs (`breaks.lifecycle`).
public enum BreakLifecycle: String, Sendable, CaseIterable, Codable {
    /// First seen in this run.
    case new
    /// Seen in an earlier run too (`first_seen_run_id`, `first_seen_at`).
    case persisting
    /// Seen in an earlier run, gone in this one.
    case resolved
}
