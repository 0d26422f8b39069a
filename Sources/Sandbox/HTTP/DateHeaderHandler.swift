import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Dates every response head by the sandbox's clock. Hummingbird's application stamps `Date`
/// from the machine's clock after the responder has run, so the header is set again here, on
/// the way out of the channel (the handler sits after the HTTP codec, before the responder).
final class DateHeaderHandler: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let clock: SandboxClock

    init(clock: SandboxClock) { self.clock = clock }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        head.headerFields[.date] = clock.dateHeader()
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
