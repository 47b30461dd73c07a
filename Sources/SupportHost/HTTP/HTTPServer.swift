import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP server the guest talks to, bound to one address for the whole run: each connection
/// admitted by the `ConnectionBudget` gets the handlers of `ConnectionPipeline`.
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
            // A client that shuts its sending side after a request (busybox `nc` at the end of
            // its input) still gets the answer: without this NIO closes the whole connection.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Refused (the budget is full of proven or young connections): closed
                    // before any handler is added.
                    guard let admission = ConnectionAdmission.admit(channel, budget: services.connections) else { return }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(admission)
                    try ConnectionPipeline.configure(sync, services: services, files: files.cache(for: channel.eventLoop))
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
