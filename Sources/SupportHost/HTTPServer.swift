import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What every connection's dispatcher shares: the routes, the journal, the activity clock.
final class ServerServices: Sendable {
    let router: Router
    let journal: Journal
    let activity: Activity
    let clock: RunClock
    /// Nil with `--token none`.
    let token: RunToken?
    let limits: Job.ServerLimits
    let openConnections = Atomic<Int>(0)
    let answered = AnsweredRequests()

    init(router: Router, journal: Journal, activity: Activity, clock: RunClock, token: RunToken?, limits: Job.ServerLimits) {
        self.router = router
        self.journal = journal
        self.activity = activity
        self.clock = clock
        self.token = token
        self.limits = limits
    }
}

/// The HTTP server the guest talks to: SwiftNIO's HTTP/1.1 codec with one `HTTPDispatcher` per
/// connection, bound to one address for the whole run.
final class HTTPServer: Sendable {
    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    let files: OpenFileCaches

    /// The address actually bound (the port is known even when 0 was asked for).
    var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup, files: OpenFileCaches) {
        self.channel = channel
        self.group = group
        self.files = files
    }

    static func start(host: String, port: Int, services: ServerServices) async throws -> HTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let files = OpenFileCaches(group: group)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let open = services.openConnections.wrappingAdd(1, ordering: .relaxed).newValue
                    channel.closeFuture.whenComplete { _ in services.openConnections.wrappingSubtract(1, ordering: .relaxed) }
                    guard open <= services.limits.maxConnections else {
                        // Over the limit: refused at once; the guest's own connections are unaffected.
                        services.journal.append(source: "host", kind: "connection-refused", fields: [
                            "open": .int(Int64(open - 1)), "limit": .int(Int64(services.limits.maxConnections)),
                        ])
                        channel.close(promise: nil)
                        return
                    }
                    var decoderLimits = NIOHTTPDecoderLimitConfiguration()
                    decoderLimits.maxHeaderFieldSize = services.limits.maxHeaderBytes
                    decoderLimits.maxHeaderListSize = services.limits.maxHeaderBytes
                    decoderLimits.maxHeaderFieldCount = 200
                    let sync = channel.pipeline.syncOperations
                    let idle = TimeAmount.milliseconds(Int64(services.limits.idleTimeout * 1000))
                    try sync.addHandler(IdleStateHandler(readTimeout: idle))
                    try sync.configureHTTPServerPipeline(
                        withErrorHandling: false, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: decoderLimits)
                    try sync.addHandler(HTTPDispatcher(services: services, files: files.cache(for: channel.eventLoop)))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            return HTTPServer(channel: channel, group: group, files: files)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Stops accepting, closes every connection and the event loops.
    func stop() async {
        try? await channel.close()
        await files.closeAll()
        try? await group.shutdownGracefully()
    }
}
