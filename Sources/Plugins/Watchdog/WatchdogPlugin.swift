import FoundationEssentials
import PluginAPI
import SupportKit

/// `POST /watchdog`: the guest asks for more time (Beaker's watchdog extension). The body is a
/// number of seconds, as plain text or as JSON (`60` or `{"seconds": 60}`); the host moves the
/// total deadline within the operator's `--max-extend` cap and answers with the new deadline.
public final class WatchdogPlugin: Plugin {
    public static let name = "Watchdog"
    public static let summary = "POST seconds: the guest extends its total deadline, within --max-extend"
    public static let hooks: Set<Hook> = [.import, .command, .recover]
    public static let namespaceSummary = "/watchdog"

    private let context: any HostContext
    private let extensions = Locked([JSONValue]())

    public init(context: any HostContext) {
        self.context = context
    }

    public var namespaces: [Namespace] { [.exact("/watchdog")] }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        guard request.method == "POST" || request.method == "PUT" else {
            throw GuestError(405, "extend the watchdog with POST /watchdog and a number of seconds")
        }
        let text = String(decoding: try await body.collect(upTo: 1024), as: UTF8.self)
        let seconds = try Self.seconds(in: text)
        return .json(200, try await command("extend", arguments: ["seconds": .double(seconds)]))
    }

    /// `extend` (arguments: `seconds`): asks the host to move the total deadline.
    public func command(_ name: String, arguments: [String: JSONValue]) async throws -> JSONValue {
        guard name == "extend", let seconds = arguments["seconds"]?.doubleValue else {
            throw CommandError.unknownCommand(plugin: Self.name, command: name)
        }
        let answer = try await context.ask(.extendDeadline(seconds: seconds))
        context.record("extended", ["seconds": .double(seconds), "answer": answer])
        return answer
    }

    static func seconds(in text: String) throws -> Double {
        let trimmed = text.trimmingWhitespace()
        let value = Double(trimmed) ?? (try? JSONValue.decode(Data(trimmed.utf8)))?["seconds"]?.doubleValue
        guard let value, value.isFinite, value > 0 else {
            throw GuestError(400, "the body must be a positive number of seconds, as text or {\"seconds\": N}")
        }
        return value
    }

    public func recover(_ entry: JournalEntry) throws {
        guard entry.kind == "extended" else { return }
        extensions.withLock { $0.append(.object(entry.fields.merging(["time": .double(entry.time)]) { a, _ in a })) }
    }

    public func report() -> [String: JSONValue] {
        let all = extensions.withLock { $0 }
        return all.isEmpty ? [:] : ["watchdog_extensions": .array(all)]
    }
}
