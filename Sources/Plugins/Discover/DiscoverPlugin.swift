import FoundationEssentials
import PITAXML
import PluginAPI
import SupportKit

/// Platform descriptions: the guest `PUT`s (or `POST`s) a JSON document for one testing
/// context, or a PITA-XML `<guest>` document with one or more `<platform>` elements, under
/// `/discover`; each platform is stored durably with its canonical hash.
public final class DiscoverPlugin: Plugin {
    public static let name = "Discover"
    public static let summary = "platform descriptions (JSON or PITA-XML <guest>) and their canonical hashes"
    public static let hooks: Set<Hook> = [.import, .command, .recover]
    public static let namespaceSummary = "/discover/*"

    private let context: any HostContext
    private let platforms = Locked(PlatformSet())

    public init(context: any HostContext) {
        self.context = context
    }

    public var namespaces: [Namespace] { [.prefix("/discover")] }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        guard request.method == "PUT" || request.method == "POST" else {
            throw GuestError(405, "platforms are sent with PUT or POST, not \(request.method)")
        }
        if let announced = body.expectedLength, announced > PlatformLimits.maxDocumentBytes {
            throw GuestError(413, "a platform document of \(announced) bytes is over the limit of \(PlatformLimits.maxDocumentBytes) bytes")
        }
        let document = try await body.collect(upTo: PlatformLimits.maxDocumentBytes)
        let described = try Self.parse(document, contentType: request.header("content-type"))
        for platform in described {
            var fields = platform.fields
            fields["received_at"] = .string(request.path)
            try await context.recordDurably("platform", fields)
            platforms.withLock { $0.insert(platform, fields: fields) }
        }
        let answers: [JSONValue] = described.map { ["scheme": .string($0.scheme), "path": .string($0.path), "hash": .string($0.hash)] }
        if described.count == 1, let only = answers.first { return .json(201, only) }
        return .json(201, ["platforms": .array(answers)])
    }

    /// The platforms a document describes: PITA-XML when it says it is XML (by its content
    /// type or its first byte), JSON otherwise.
    static func parse(_ document: Data, contentType: String?) throws -> [Platform] {
        let saysXML = contentType.map { $0.lowercased().contains("xml") } ?? false
        if saysXML || PITADocument.looksLikeXML(document.prefix(64)) {
            switch try PITADocument.read(document, limit: PlatformLimits.maxDocumentBytes) {
            case .guest(let platforms): return platforms
            case .report: throw GuestError(422, "a PITA-XML <report> is a result, not a platform description")
            case nil: throw GuestError(422, "an XML platform description is a PITA-XML <guest> document (namespace \(PITADocument.namespacePrefix)…)")
            }
        }
        let platform = try parseJSON(document)
        try PlatformLimits.check(platform)
        return [platform]
    }

    static func parseJSON(_ document: Data) throws -> Platform {
        guard let value = try? JSONValue.decode(document), let object = value.objectValue else {
            throw GuestError(400, "a platform is a JSON object {\"scheme\":…, \"path\":…, \"env\":{…}, \"config\":{…}} or a PITA-XML <guest>")
        }
        guard let scheme = object["scheme"]?.stringValue, !scheme.isEmpty,
            let path = object["path"]?.stringValue, !path.isEmpty
        else { throw GuestError(422, "a platform needs a non-empty \"scheme\" and \"path\"") }
        return Platform(scheme: scheme, path: path, env: try pairs(object["env"], section: "env"), config: try pairs(object["config"], section: "config"))
    }

    private static func pairs(_ value: JSONValue?, section: String) throws -> [String: String] {
        guard let value else { return [:] }
        guard let object = value.objectValue else { throw GuestError(422, "\"\(section)\" must be an object of strings") }
        guard object.count <= PlatformLimits.maxPairs else {
            throw GuestError(413, "a platform has at most \(PlatformLimits.maxPairs) pairs, \"\(section)\" has \(object.count)")
        }
        return try object.mapValues { item in
            guard let text = item.stringValue else { throw GuestError(422, "values of \"\(section)\" must be strings") }
            return text
        }
    }

    public func recover(_ entry: JournalEntry) throws {
        guard entry.kind == "platform", let platform = Platform(fields: entry.fields) else { return }
        platforms.withLock { $0.insert(platform, fields: entry.fields) }
    }

    public func report() -> [String: JSONValue] {
        ["platforms": .array(platforms.withLock { $0.all })]
    }
}
