import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix

/// The built-in guest of `support-host demo`: pings, reads a file from the mirror, uploads a
/// result and exits. It is the same binary re-executed, so the demo needs no curl or perl.
public enum DemoGuest {
    public static func run(baseURL: String) async throws {
        guard let url = URL(string: baseURL), let host = url.host, let port = url.port else {
            throw DemoGuestError.badURL(baseURL)
        }
        let prefix = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        let client = TinyHTTPClient(host: host, port: port)
        let ping = try await client.send("GET", prefix + "/")
        print("demo guest: GET / → \(ping.status)")
        let file = try await client.send("GET", prefix + "/cpan/hello.txt")
        print("demo guest: GET /cpan/hello.txt → \(file.status), \(file.body.count) bytes")
        let text = "{\"guest\":\"demo\",\"read\":\(file.body.count),\"greeting\":\(String(decoding: file.body, as: UTF8.self).debugDescription)}\n"
        let upload = try await client.send("PUT", prefix + "/result.json", body: Data(text.utf8))
        print("demo guest: PUT /result.json → \(upload.status)")
        guard ping.status == 200, file.status == 200, upload.status == 201 else { throw DemoGuestError.unexpectedStatus }
    }
}

enum DemoGuestError: Error, CustomStringConvertible {
    case badURL(String)
    case unexpectedStatus
    case noResponse

    var description: String {
        switch self {
        case .badURL(let url): return "SUPPORT_HOST_URL '\(url)' is not http://HOST:PORT"
        case .unexpectedStatus: return "the host answered with an unexpected status"
        case .noResponse: return "the host closed the connection without an answer"
        }
    }
}

/// One request per connection over NIO's HTTP/1.1 client codec; enough for the demo guest.
struct TinyHTTPClient {
    let host: String
    let port: Int

    struct Response: Sendable {
        var status: Int
        var body: Data
    }

    func send(_ method: String, _ path: String, body: Data? = nil) async throws -> Response {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Response.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                }
            }
            .connect(host: host, port: port).get()
        var headers = HTTPHeaders([("Host", "\(host):\(port)"), ("Connection", "close")])
        headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let response = try await promise.futureResult.get()
        try? await channel.close()
        return response
    }

    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<Response>
        var response = Response(status: 0, body: Data())

        init(promise: EventLoopPromise<Response>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): response.status = Int(head.status.code)
            case .body(let buffer): response.body.append(contentsOf: buffer.readableBytesView)
            case .end: promise.succeed(response)
            }
        }

        func channelInactive(context: ChannelHandlerContext) { promise.fail(DemoGuestError.noResponse) }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { promise.fail(error) }
    }
}
