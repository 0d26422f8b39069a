import Hummingbird

/// Request context that can close the request's connection: `--drop-rate` commits an operation,
/// then closes the channel so the client gets no response at all.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Closes the underlying TCP connection and waits until it is closed.
    let dropConnection: @Sendable () async -> Void

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        let channel = source.channel
        dropConnection = {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            channel.close(promise: promise)
            try? await promise.futureResult.get()
        }
    }
}
