#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BatchRun
import Gateway
import Dispatch

/// SIGINT/SIGTERM: the first stops the run from taking rows (in-flight calls finish or
/// are recorded, the report is written, exit 130/143); a second one exits at once —
/// the ledger's intents make that safe too (the next run recovers).
final class SignalTrap: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    init(control: RunControl, log: RunLog) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if control.isStopped {
                    log(RunEvent(.warning, "second signal: exiting now (the next run checks what was in flight)", [("signal", .int(number))]))
                    exit(128 + number)
                }
                control.stop(.signal(number))
                log(RunEvent(.warning, "signal received: finishing in-flight calls, taking no new rows (a second signal exits at once)", [("signal", .int(number))]))
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }
}
