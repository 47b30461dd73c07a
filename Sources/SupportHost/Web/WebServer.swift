import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `support-host serve`: the web view of a directory of runs, on its own SwiftNIO listener
/// (the guest listener's stack, none of its dispatcher). Everything it shows is read from the
/// run directories at the time of asking.
public final class WebServer: Sendable {
    /// Open connections at most (each event stream holds one); more are closed at once.
    static let maxConnections = 512
    /// A connection with no request for this long is closed; event streams excepted.
    static let idleTimeout = TimeAmount.seconds(60)

    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    let pool: NIOThreadPool
    public let token: String

    /// The port bound (known when 0 was asked for).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup, pool: NIOThreadPool, token: String) {
        (self.channel, self.group, self.pool, self.token) = (channel, group, pool, token)
    }

    /// Starts serving `root` on `host:port` with a new random token (or `token` when given).
    public static func start(root: URL, host: String, port: Int, token: String? = nil) async throws -> WebServer {
        let secret = token.map(RunToken.init(value:)) ?? RunToken.generate()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let router = WebRouter(index: RunIndex(root: root))
        let connections = OpenConnections()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let open = connections.count.wrappingAdd(1, ordering: .relaxed).newValue
                    channel.closeFuture.whenComplete { _ in connections.count.wrappingSubtract(1, ordering: .relaxed) }
                    guard open <= Self.maxConnections else {
                        channel.close(promise: nil)
                        return
                    }
                    let access = WebAccess(token: secret, port: channel.localAddress?.port ?? 0)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(WebHandler(router: router, access: access, pool: pool))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            return WebServer(channel: channel, group: group, pool: pool, token: secret.value)
        } catch {
            try? await pool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// The address to print: the host as bound, the port, the token.
    public var url: String {
        let host = channel.localAddress?.ipAddress ?? "127.0.0.1"
        let shown = host.contains(":") ? "[\(host)]" : host
        return "http://\(shown):\(port)/?token=\(token)"
    }

    /// Until the listener closes (Ctrl-C ends the process).
    public func wait() async throws {
        try await channel.closeFuture.get()
    }

    public func stop() async {
        try? await channel.close()
        try? await pool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }
}

/// The web view's open connections, shared by every connection's initializer.
private final class OpenConnections: Sendable {
    let count = Atomic<Int>(0)
}
