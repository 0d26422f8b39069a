import BatchRun
import CashierModel
import Foundation
@testable import Gateway
@testable import Ledger
import RebillyClient
import Sandbox
import Testing
import Throttle

@Suite struct BatchSenderTests {
    @Test func everyRowGetsOneCashierAndOneDepositRequest() async throws {
        let staged = try StagedLedger(rows: 40)
        defer { staged.cleanup() }
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let gateway = try makeGateway(sandbox)
        let sender = BatchSender(ledger: staged.ledger, gateway: gateway, policy: fastPolicy(), runID: staged.runID)
        let tally = try await sender.send(batchID: staged.batchID)
        await gateway.shutdown()
        let stats = try await SandboxProbe(sandbox: sandbox).stats()
        await sandbox.stop()

        #expect(tally.done == 40)
        #expect(tally.failed == 0 && tally.rejected == 0 && tally.inDoubt == 0 && tally.unfinished == 0)
        #expect(try staged.ledger.countsByState(batchID: staged.batchID).filter { $0.value > 0 } == [.done: 40])
        #expect(stats["cashiers"] == .number("40"))
        #expect(stats["depositRequests"] == .number("40"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        let rows = try staged.ledger.rows(batchID: staged.batchID)
        #expect(rows.allSatisfy { $0.cashierID?.hasPrefix("cashier_") == true && $0.depositRequestID?.hasPrefix("dep_req_") == true })
        let attempts = try staged.ledger.attempts(runID: staged.runID)
        #expect(attempts.count == 80)
        #expect(attempts.allSatisfy { $0.outcome == .succeeded && $0.httpStatus == 201 })
        // A row's cashier outcome and its deposit request's intent are one ledger write:
        // the same timestamp, and the deposit attempt right after the cashier's.
        for row in rows {
            let mine = attempts.filter { $0.rowID == row.id }
            #expect(mine.map(\.operation) == [.createCashier, .createDepositRequest])
            #expect(mine.count == 2 && mine[0].finishedAt == mine[1].requestedAt, "row \(row.id)")
        }
    }

    @Test func dropsAndFailuresEndWithEveryRowDoneAndNoDuplicateDeposit() async throws {
        let staged = try StagedLedger(rows: 60)
        defer { staged.cleanup() }
        var config = SandboxConfiguration()
        config.failRate = 0.2
        config.dropRate = 0.2
        config.seed = 42
        let sandbox = try await SandboxServer.start(config)
        let gateway = try makeGateway(sandbox, attempts: 12)
        let sender = BatchSender(ledger: staged.ledger, gateway: gateway, policy: fastPolicy(), runID: staged.runID)
        let tally = try await sender.send(batchID: staged.batchID)
        await gateway.shutdown()
        let stats = try await SandboxProbe(sandbox: sandbox).stats()
        await sandbox.stop()

        #expect(tally.done == 60, "\(tally)")
        #expect(stats["depositRequests"] == .number("60"))
        #expect(stats["duplicateDepositRequests"] == .number("0"))
        let attempts = try staged.ledger.attempts(runID: staged.runID)
        #expect(attempts.contains { $0.outcome == .lost }, "the seed must have produced dropped answers")
        #expect(attempts.contains { $0.operation == .listDepositRequests }, "in-doubt deposits must have been verified")
        // Every row's deposit id is one the sandbox holds, and no two rows share one.
        let ids = try staged.ledger.rows(batchID: staged.batchID).compactMap(\.depositRequestID)
        #expect(Set(ids).count == 60)
    }

    @Test func badCredentialsStopTheRunAfterTheFirstAnswer() async throws {
        let staged = try StagedLedger(rows: 25)
        defer { staged.cleanup() }
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let control = RunControl()
        let gateway = try makeGateway(sandbox, apiKey: "wrong-key", control: control)
        let sender = BatchSender(ledger: staged.ledger, gateway: gateway, policy: fastPolicy(), runID: staged.runID)
        let tally = try await sender.send(batchID: staged.batchID)
        await gateway.shutdown()
        let stats = try await SandboxProbe(sandbox: sandbox).stats()
        await sandbox.stop()

        guard case .credentialsRefused? = control.stopReason else { Issue.record("not stopped: \(String(describing: control.stopReason))"); return }
        #expect(tally.unfinished == 25)
        #expect(stats["requestsTotal"] == .number("1"))
        #expect(stats["cashiers"] == .number("0"))
        let attempts = try staged.ledger.attempts(runID: staged.runID)
        #expect(attempts.count == 1)
        #expect(attempts.first?.outcome == .fatal && attempts.first?.httpStatus == 401)
        #expect(try staged.ledger.countsByState(batchID: staged.batchID)[.pending] == 25)
    }

    @Test func anInDoubtDepositIsAdoptedNotSentAgain() async throws {
        let staged = try StagedLedger(rows: 1)
        defer { staged.cleanup() }
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let gateway = try makeGateway(sandbox)
        let row = try #require(try staged.ledger.rows(batchID: staged.batchID).first)
        // A crashed run: the cashier was made, the deposit POST went out (intent recorded), the answer was lost.
        let client = gateway.client
        let cashier = try await client.createCashier(body: #"{"websiteId":"web_1","customerId":"cus_0","currency":"USD"}"#)
        let writer = staged.ledger.writer()
        try await writer.transition(rowID: row.id, to: .cashierCreated, cashierID: cashier.cashier.id)
        let intent = try await writer.recordIntent(rowID: row.id, runID: staged.runID, operation: .createDepositRequest)
        await writer.shutdown()
        // The body the job sent: the row's terms, and the expirationTime its send time sets.
        let sentAt = try #require(try staged.ledger.attempt(id: intent)).requestedAt
        let valid = try #require(row.cashierRow)
        let expiry = RFC3339.string(DepositOwnership.expirationTime(sentAt: sentAt, rowID: row.id))
        let created = try await client.createDepositRequest(body: valid.depositRequestBody(expirationTime: expiry))
        let nextRun = try staged.ledger.beginRun(command: "run")
        let recovery = try staged.ledger.recoverCrashedRuns(currentRunID: nextRun)
        #expect(recovery.rowsMarkedInDoubt == 1)

        let sender = BatchSender(ledger: staged.ledger, gateway: gateway, policy: fastPolicy(), runID: nextRun)
        let tally = try await sender.send(batchID: staged.batchID)
        await gateway.shutdown()
        let stats = try await SandboxProbe(sandbox: sandbox).stats()
        await sandbox.stop()

        #expect(tally.done == 1)
        #expect(stats["depositRequests"] == .number("1"))
        #expect(try staged.ledger.row(id: row.id)?.depositRequestID == created.id)
        #expect(try staged.ledger.attempts(runID: nextRun).map(\.operation) == [.listDepositRequests])
    }

    @Test func noDepositsCreatesOnlyCashiers() async throws {
        let staged = try StagedLedger(rows: 5)
        defer { staged.cleanup() }
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let gateway = try makeGateway(sandbox)
        var policy = fastPolicy()
        policy.deposits = false
        let sender = BatchSender(ledger: staged.ledger, gateway: gateway, policy: policy, runID: staged.runID)
        let tally = try await sender.send(batchID: staged.batchID)
        await gateway.shutdown()
        let stats = try await SandboxProbe(sandbox: sandbox).stats()
        await sandbox.stop()
        #expect(tally.done == 5)
        #expect(stats["cashiers"] == .number("5"))
        #expect(stats["depositRequests"] == .number("0"))
    }

    @Test func aRepeatedPassSendsNothingForDoneRows() async throws {
        let staged = try StagedLedger(rows: 6)
        defer { staged.cleanup() }
        let sandbox = try await SandboxServer.start(SandboxConfiguration())
        let gateway = try makeGateway(sandbox)
        let sender = BatchSender(ledger: staged.ledger, gateway: gateway, policy: fastPolicy(), runID: staged.runID)
        _ = try await sender.send(batchID: staged.batchID)
        let again = try await sender.send(batchID: staged.batchID)
        await gateway.shutdown()
        let stats = try await SandboxProbe(sandbox: sandbox).stats()
        await sandbox.stop()
        #expect(again == RowCounts())
        #expect(stats["requestsTotal"] == .number("12"))
    }
}
