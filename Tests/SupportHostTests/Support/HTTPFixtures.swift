import Foundation
import NIOCore
import NIOHTTP1
import PluginAPI
import Synchronization

@testable import SupportHost

/// A server's shared services without a server: the HTTP handlers' tests run them on an
/// `EmbeddedChannel` against these plug-ins, with a real journal in a temporary directory.
struct HTTPFixture {
    static let token = "fixture-token-0123456789abcdef"

    /// `GET /hello` answers "hello\n"; `GET /boom` throws; `GET /later` answers with a
    /// `Reply.later` that waits for `laterGate` ("later\n"), `GET /later-boom` with one that
    /// throws; `PUT /up/…` reads the whole body and answers 201 with its length; `PUT /early/…`
    /// answers 413 without reading.
    final class Greeter: Plugin {
        static let name = "Greeter"
        static let summary = ""
        static let hooks: Set<Hook> = [.export, .import]
        static let namespaceSummary = ""
        let laterGate = Gate()
        init(context: any HostContext) {}
        init() {}
        var namespaces: [Namespace] {
            [.exact("/hello"), .exact("/boom"), .exact("/later"), .exact("/later-boom"), .prefix("/up"), .prefix("/early")]
        }

        func exportData(_ request: GuestRequest) throws -> Reply {
            switch request.path {
            case "/boom": throw GuestError(418, "boom asked for")
            case "/later":
                return .later { [laterGate] in
                    await laterGate.wait()
                    return .text(200, "later\n")
                }
            case "/later-boom": return .later { throw GuestError(409, "later boom") }
            default: return .text(200, "hello\n")
            }
        }

        func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
            if request.namespace == .prefix("/early") { return .text(413, "too much\n") }
            var count = 0
            for try await chunk in body { count += chunk.count }
            return .text(201, "\(count)\n")
        }
    }

    let services: ServerServices
    let journalURL: URL
    let greeter = Greeter()

    init(token: String? = HTTPFixture.token, limits: Job.ServerLimits = Job.ServerLimits(), plugins: [any Plugin] = []) throws {
        let directory = Fixtures.temporaryDirectory("http")
        journalURL = directory.appendingPathComponent("journal.log")
        let clock = RunClock()
        let journal = try Journal(url: journalURL, clock: clock)
        services = ServerServices(
            router: try Router(plugins: [greeter] + plugins), journal: journal, activity: Activity(clock: clock), clock: clock,
            token: token.map { RunToken(value: $0) }, limits: limits)
    }

    /// Closes the journal and reads its records back.
    func records() async throws -> [JournalEntry] {
        try await services.journal.close()
        return JournalFormat.read(try Data(contentsOf: journalURL)).entries
    }

    static func head(_ method: HTTPMethod = .GET, _ uri: String, _ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    /// A request as the token check hands it on.
    static func pending(_ method: HTTPMethod = .GET, _ path: String, _ headers: [(String, String)] = []) -> PendingRequest {
        PendingRequest(record: RequestRecord(head: head(method, path, headers), path: path, started: 0), query: "")
    }
}

/// Records the outbound user events that reach it (put it first in a pipeline).
final class OutboundEventRecorder: ChannelOutboundHandler {
    typealias OutboundIn = Any
    private(set) var events: [Any] = []

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        events.append(event)
        promise?.succeed()
    }
}

extension Reply {
    /// The body of a `.bytes` reply as text.
    var text: String? {
        if case .bytes(let data) = body { return String(decoding: data, as: UTF8.self) }
        return nil
    }
}

/// Holds back whoever waits until it is opened (and everyone after).
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    /// Whether anyone waits now.
    var isWaitedFor: Bool { state.withLock { !$0.waiters.isEmpty } }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}
