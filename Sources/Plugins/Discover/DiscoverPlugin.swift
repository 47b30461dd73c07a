import Foundation
import PluginAPI

/// Platform descriptions: the guest `PUT`s (or `POST`s) one JSON document per testing context
/// under `/discover`; each is stored durably with its canonical hash.
public final class DiscoverPlugin: Plugin {
    public static let name = "Discover"
    public static let summary = "platform descriptions (scheme, path, pairs) and their hashes"
    public static let hooks: Set<Hook> = [.import, .recover]
    public static let namespaceSummary = "/discover/*"

    /// Limits on what a guest may describe.
    static let maxDocumentBytes = 256 * 1024
    static let maxPairs = 1000
    static let maxValueBytes = 16 * 1024

    private let context: any HostContext
    private let platforms = Locked([String: Platform]())

    public init(context: any HostContext) {
        self.context = context
    }

    public var namespaces: [Namespace] { [.prefix("/discover")] }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        let document = try await body.collect(upTo: Self.maxDocumentBytes)
        let platform = try Self.parse(document)
        try await context.recordDurably("platform", platform.fields)
        platforms.withLock { $0["\(platform.scheme) \(platform.path)"] = platform }
        return .json(201, ["scheme": .string(platform.scheme), "path": .string(platform.path), "hash": .string(platform.hash)])
    }

    static func parse(_ document: Data) throws -> Platform {
        guard let value = try? JSONValue.decode(document), let object = value.objectValue else {
            throw GuestError(400, "a platform is a JSON object {\"scheme\":…, \"path\":…, \"env\":{…}, \"config\":{…}}")
        }
        guard let scheme = object["scheme"]?.stringValue, !scheme.isEmpty,
            let path = object["path"]?.stringValue, !path.isEmpty
        else { throw GuestError(422, "a platform needs a non-empty \"scheme\" and \"path\"") }
        let env = try pairs(object["env"], section: "env")
        let config = try pairs(object["config"], section: "config")
        guard env.count + config.count <= maxPairs else {
            throw GuestError(413, "a platform has at most \(maxPairs) pairs, this one has \(env.count + config.count)")
        }
        return Platform(scheme: scheme, path: path, env: env, config: config)
    }

    private static func pairs(_ value: JSONValue?, section: String) throws -> [String: String] {
        guard let value else { return [:] }
        guard let object = value.objectValue else { throw GuestError(422, "\"\(section)\" must be an object of strings") }
        return try object.mapValues { item in
            guard let text = item.stringValue else { throw GuestError(422, "values of \"\(section)\" must be strings") }
            guard text.utf8.count <= maxValueBytes else {
                throw GuestError(413, "a value in \"\(section)\" is longer than \(maxValueBytes) bytes")
            }
            return text
        }
    }

    public func recover(_ entry: JournalEntry) throws {
        guard entry.kind == "platform", let platform = Platform(fields: entry.fields) else { return }
        platforms.withLock { $0["\(platform.scheme) \(platform.path)"] = platform }
    }

    public func report() -> [String: JSONValue] {
        let all = platforms.withLock { $0.sorted { $0.key < $1.key }.map(\.value) }
        return ["platforms": .array(all.map { .object($0.fields) })]
    }
}
