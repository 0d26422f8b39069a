import Foundation

/// The events of a row's pass and the transitions they make (see ``RowLifecycle``).
extension RowLifecycle {
    /// The pass begins: the cashier (unless the row has one, or an earlier night recorded it),
    /// then the deposit request, after checking one that is in doubt.
    public mutating func start() -> [Action] {
        precondition(state == .idle, "started twice")
        guard row != nil else {
            guard hasSource else { return end(.failed) }
            // Staged before ledger v10 and no longer valid when v10 typed its request. Never send it.
            return [moving(.rejected(reasonsJSON: #"[{"field":"row","message":"no longer passes validation"}]"#))] + end(.rejected)
        }
        // Repeating a cashier create is safe: 200 returns the existing one.
        if rowState == .pending || rowState == .failed || (rowState == .cashierCreated && cashierID == nil) {
            guard known, cashierID == nil else { return beginCall(.createCashier) }
            rowState = .cashierCreated
            origin = .known
            return [.adoptKnownCashier] + afterCashier()
        }
        return afterCashier()
    }

    /// The call's token or read permit is taken.
    public mutating func permitted() -> [Action] {
        switch state {
        case .cashier: return [.recordIntent(.createCashier)]
        case .deposit: return [.recordIntent(.createDepositRequest)]
        case .listing: return [.recordIntent(.listDepositRequests)]
        case .chaining:
            guard let answer = cashierAnswer else { preconditionFailure("chaining without the cashier's answer") }
            cashierAnswer = nil
            rowState = .cashierCreated
            state = .deposit(attempt: 1)
            return [.recordOutcomeThenIntent(answer, next: .createDepositRequest)]
        default: preconditionFailure("permitted() in \(state)")
        }
    }

    /// The command stopped (a signal, refused credentials, the ledger) before the call was sent.
    public mutating func stopped() -> [Action] {
        switch state {
        case .chaining:
            // The cashier's outcome alone; its deposit request is left to the next run.
            guard let answer = cashierAnswer else { preconditionFailure("chaining without the cashier's answer") }
            cashierAnswer = nil
            rowState = .cashierCreated
            return [.recordOutcome(answer)] + beginCall(.createDepositRequest)
        case .cashier, .deposit, .listing: return end(.stopped)
        default: preconditionFailure("stopped() in \(state)")
        }
    }

    /// The call's intent is durable as attempt `id`: it may be sent.
    public mutating func intentRecorded(_ id: Int64) -> [Action] {
        attemptID = id
        switch state {
        case .cashier: return [.send(.createCashier, attemptID: id)]
        case .deposit: return [.send(.createDepositRequest, attemptID: id)]
        case .listing: return [.send(.listDepositRequests, attemptID: id)]
        default: preconditionFailure("intentRecorded(_:) in \(state)")
        }
    }

    /// Rebilly answered the attempt (2xx); `id`: the resource it returned.
    public mutating func answered(status: Int, latency: Duration, id: String?) -> [Action] {
        var record = AttemptRecord(attemptID: attemptID, httpStatus: status, latencyMs: Self.milliseconds(latency),
                                   error: nil, returnedID: id, outcome: .succeeded)
        switch state {
        case .cashier:
            origin = .madeNow
            record.transition = .cashierCreated(cashierID: id)
            record.withFigures = true
            if settings.deposits {
                // The deposit's token comes first, so that its intent's time is its send time.
                cashierAnswer = record
                state = .chaining
                return [.takePermit(.createDepositRequest)]
            }
            rowState = .cashierCreated
            return [.recordOutcome(record)] + afterCashier()
        case .deposit:
            record.transition = .done(depositRequestID: id)
            rowState = .done
            return [.recordOutcome(record)] + end(.done)
        case .listing:
            return [.recordOutcome(record), .takePage]
        default: preconditionFailure("answered in \(state)")
        }
    }

    /// The attempt failed; `failure` says what it means.
    public mutating func failed(_ failure: CallFailure) -> [Action] {
        switch state {
        case let .cashier(attempt):
            return failedCall(.createCashier, attempt: attempt, failure)
        case let .deposit(attempt):
            if failure.kind == .rowFinal, origin != .madeNow, Self.cashierGone(failure) {
                // Not the row's fault: it stays as it is, and makes its cashier next.
                let forget: [Action] = origin == .known ? [.forgetKnownCashier] : []
                return [.recordOutcome(record(failure, .rejected))] + forget + beginCall(.createCashier)
            }
            if failure.leavesInDoubt {
                rowState = .inDoubt
                state = .readingPosts
                return [.recordOutcome(record(failure, .lost, then: .inDoubt(reasonsJSON: nil))), .readPosts]
            }
            return failedCall(.createDepositRequest, attempt: attempt, failure)
        case let .listing(page, attempt):
            // A list is only a read: its failure never moves the row with its outcome.
            if failure.kind == .stopCommand { return [.recordOutcome(record(failure, .fatal))] + end(.stopped) }
            let recorded = Action.recordOutcome(record(failure, Self.unanswered(failure)))
            if failure.isRetried(afterAttempt: attempt, of: settings.maxAttempts) {
                state = .listing(page: page, attempt: attempt + 1)
                return [recorded, .backOff(after: failure, attempt: attempt), .takePermit(.listDepositRequests)]
            }
            return [recorded] + stillInDoubt(failure)
        default: preconditionFailure("failed(_:) in \(state)")
        }
    }

    /// When the row's deposit POSTs were sent (`thisRun` of them in this run), read at `now`.
    public mutating func postsRead(_ times: [Date], thisRun: Int, now: Date) -> [Action] {
        guard state == .readingPosts else { preconditionFailure("postsRead in \(state)") }
        posts = times.sorted()
        postsThisRun = thisRun
        guard let first = posts.first, let last = posts.last else {
            return [moving(.cashierCreated(cashierID: nil))] + beginCall(.createDepositRequest)
        }
        // A request whose client went away can still be committed by the server a moment
        // later: a list made before it has settled would miss it.
        let settled = last.addingTimeInterval(settings.settleSeconds)
        if settled > now {
            state = .parked(until: settled)
            return [.park(until: settled)]
        }
        state = .listing(page: 1, attempt: 1)
        return [.openListing(firstPost: first), .takePermit(.listDepositRequests)]
    }

    /// The answered page is taken; `complete`: it was the listing's last.
    public mutating func pageTaken(complete: Bool) -> [Action] {
        guard case let .listing(page, _) = state else { preconditionFailure("pageTaken in \(state)") }
        if complete {
            state = .judging
            return [.judge(posts: posts)]
        }
        state = .listing(page: page + 1, attempt: 1)
        return [.takePermit(.listDepositRequests)]
    }

    /// The listing cannot be completed although every answer was a good one.
    public mutating func listingStuck(_ failure: CallFailure) -> [Action] {
        guard case .listing = state else { preconditionFailure("listingStuck in \(state)") }
        return stillInDoubt(failure)
    }

    /// Exactly one listed deposit request matches everything the row sent: it is the row's.
    public mutating func listed(adopting id: String) -> [Action] {
        guard state == .judging else { preconditionFailure("listed in \(state)") }
        return [moving(.done(depositRequestID: id))] + end(.done)
    }

    /// Two matches, or a near miss: never adopted, never sent again without a person.
    public mutating func listedForReview(reason: String, candidates: [String]) -> [Action] {
        guard state == .judging else { preconditionFailure("listedForReview in \(state)") }
        let reasons = RowReasons.one(field: "depositRequest", message: reason + "; see `cashier-batch resolve`")
        return [moving(.needsReview(reasonsJSON: reasons), candidates: candidates)] + end(.needsReview)
    }

    /// Verified absent: the deposit request is sent again, unless this run's POSTs reached `--max-attempts`.
    public mutating func listedAbsent() -> [Action] {
        guard state == .judging else { preconditionFailure("listedAbsent in \(state)") }
        if postsThisRun >= settings.maxAttempts {
            let reasons = RowReasons.one(field: "api", message: "no deposit request was created after \(postsThisRun) unanswered attempts")
            return [moving(.failed(reasonsJSON: reasons))] + end(.failed)
        }
        return [moving(.cashierCreated(cashierID: nil))] + beginCall(.createDepositRequest)
    }

    // MARK: - Transitions shared by the events

    /// After the cashier: the row is done without deposits; otherwise its deposit request, once
    /// one in doubt is checked.
    mutating func afterCashier() -> [Action] {
        guard settings.deposits else {
            if rowState == .cashierCreated { return [moving(.done(depositRequestID: nil))] + end(.done) }
            return end(.done)
        }
        if rowState == .inDoubt {
            state = .readingPosts
            return [.readPosts]
        }
        return beginCall(.createDepositRequest)
    }

    mutating func beginCall(_ operation: AttemptOperation) -> [Action] {
        state = Self.calling(operation, attempt: 1)
        return [.takePermit(operation)]
    }

    /// The state of a create's `attempt`-th attempt.
    static func calling(_ operation: AttemptOperation, attempt: Int) -> State {
        operation == .createCashier ? .cashier(attempt: attempt) : .deposit(attempt: attempt)
    }

    /// A failed create: refused, retried after a pause, or given up after `--max-attempts`.
    mutating func failedCall(_ operation: AttemptOperation, attempt: Int, _ failure: CallFailure) -> [Action] {
        switch failure.kind {
        case .stopCommand:
            return [.recordOutcome(record(failure, .fatal))] + end(.stopped)
        case .rowFinal:
            rowState = .rejected
            return [.recordOutcome(record(failure, .rejected, then: .rejected(reasonsJSON: reasons(failure))))] + end(.rejected)
        case .retryable, .misdirected:
            if failure.isRetried(afterAttempt: attempt, of: settings.maxAttempts) {
                state = Self.calling(operation, attempt: attempt + 1)
                return [.recordOutcome(record(failure, Self.unanswered(failure))), .backOff(after: failure, attempt: attempt),
                        .takePermit(operation)]
            }
            rowState = .failed
            return [.recordOutcome(record(failure, Self.unanswered(failure), then: .failed(reasonsJSON: reasons(failure))))]
                + end(.failed)
        }
    }

    /// A listing that could not be completed leaves the row in doubt, saying why.
    mutating func stillInDoubt(_ failure: CallFailure) -> [Action] {
        let reasons = RowReasons.one(field: "depositRequest", message:
            "still in doubt: its deposit requests could not be listed (\(failure.message)); `cashier-batch retry` checks again")
        return [moving(.inDoubt(reasonsJSON: reasons))] + end(.inDoubt)
    }

    /// What an unanswered or refused-for-now attempt records: lost when it may have been applied.
    static func unanswered(_ failure: CallFailure) -> AttemptOutcome {
        failure.mayHaveBeenApplied ? .lost : .retryable
    }

    func record(_ failure: CallFailure, _ outcome: AttemptOutcome, then transition: RowTransition? = nil) -> AttemptRecord {
        AttemptRecord(attemptID: attemptID, httpStatus: failure.status, latencyMs: Self.milliseconds(failure.latency),
                      error: failure.message, returnedID: nil, outcome: outcome, transition: transition)
    }

    func reasons(_ failure: CallFailure) -> String {
        guard let row else { preconditionFailure("a call for a row without its request") }
        return RowReasons.of(failure, row: row)
    }

    mutating func moving(_ transition: RowTransition, candidates: [String] = []) -> Action {
        rowState = transition.state
        return .move(transition, candidates: candidates)
    }

    mutating func end(_ outcome: RowOutcome) -> [Action] {
        state = .ended(outcome)
        return [.end(outcome)]
    }
}
