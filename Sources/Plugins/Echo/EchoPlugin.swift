import FoundationEssentials
import PluginAPI
import Synchronization

/// `PUT` or `POST /echo/NAME`: answers with the body it was sent, and journals its size — the
/// smallest plug-in that uses the whole contract, written as the example of
/// docs/writing-a-plugin.md and tested with PluginTesting alone.
///
/// Settings (job file `"plugins": {"Echo": {"max_bytes": 4096}}` or `--set Echo.max_bytes=4096`):
/// `max_bytes`, the largest body echoed (default 65536, at most 1 MiB).
public final class EchoPlugin: Plugin {
    public static let name = "Echo"
    public static let summary = "PUT/POST /echo/NAME: answers with the body sent (an example plug-in)"
    public static let hooks: Set<Hook> = [.import, .recover]
    public static let namespaceSummary = "/echo"

    private let context: any HostContext
    private let maxBytes: Int
    private let echoes = Mutex(0)

    public init(context: any HostContext) throws {
        self.context = context
        try context.settings.allowOnly(["max_bytes"])
        let maxBytes = try context.settings.int("max_bytes") ?? 65536
        guard (1...(1 << 20)).contains(maxBytes) else {
            throw PluginError.badSetting(key: "max_bytes", value: "\(maxBytes)", reason: "must be 1 to 1048576")
        }
        self.maxBytes = Int(maxBytes)
    }

    public var namespaces: [Namespace] { [.prefix("/echo")] }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        let name = request.subpath.drop { $0 == "/" }
        guard !name.isEmpty, !name.contains("/") else { throw GuestError(404, "echo to /echo/NAME") }
        let bytes = try await body.collect(upTo: maxBytes)
        context.countsAsActivity()
        context.record("echoed", ["name": .string(String(name)), "bytes": .int(Int64(bytes.count))])
        context.logger.debug("echoed \(bytes.count) bytes for \(name)")
        return Reply(status: 200, headers: [("Content-Type", "application/octet-stream")], body: .bytes(bytes))
    }

    public func recover(_ entry: JournalEntry) throws {
        if entry.kind == "echoed" { echoes.withLock { $0 += 1 } }
    }

    public func report() -> [String: JSONValue] {
        let count = echoes.withLock { $0 }
        return count == 0 ? [:] : ["echoes": .int(Int64(count))]
    }
}
