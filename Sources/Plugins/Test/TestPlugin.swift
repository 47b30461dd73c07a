import Foundation
import PluginAPI

/// Result files: the guest `PUT`s each configured result path; the body streams to a temporary
/// file, is hashed on the way, made durable, and renamed into `results/`.
public final class TestPlugin: Plugin {
    public static let name = "Test"
    public static let summary = "result files: PUT to a configured path, stored durably with size and sha256"
    public static let hooks: Set<Hook> = [.import, .recover]
    public static let namespaceSummary = "each --result / --optional-result path"

    private let context: any HostContext
    private let stored = Locked([String: StoredResult]())

    public init(context: any HostContext) {
        self.context = context
    }

    public var namespaces: [Namespace] { context.configuration.results.map { .exact($0.path) } }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        guard request.method == "PUT" else {
            throw GuestError(405, "result files are sent with PUT, not \(request.method)")
        }
        let limit = context.configuration.maxResultSize
        if let announced = body.expectedLength, announced > limit {
            throw GuestError(413, "result of \(announced) bytes is over the limit of \(limit) bytes")
        }
        var writer = try ResultWriter(directory: context.resultsDirectory)
        do {
            for try await chunk in body {
                guard writer.size + Int64(chunk.count) <= limit else {
                    throw GuestError(413, "result is over the limit of \(limit) bytes")
                }
                try writer.write(chunk)
            }
        } catch {
            writer.discard()
            context.record("result-incomplete", [
                "path": .string(request.path), "bytes": .int(writer.size), "reason": .string("\(error)"),
            ])
            throw error
        }
        let digest = writer.digest
        if let earlier = stored.withLock({ $0[request.path] }) {
            writer.discard()
            if earlier.sha256 == digest { return resultReply(200, earlier) }
            throw GuestError(409, "\(request.path) is already stored with different content", details: [
                "stored_sha256": .string(earlier.sha256), "sent_sha256": .string(digest),
            ])
        }
        let fileName = ResultNames.fileName(for: request.path)
        _ = try writer.commit(as: fileName)
        let result = StoredResult(path: request.path, file: "results/" + fileName, size: writer.size, sha256: digest)
        stored.withLock { $0[request.path] = result }
        try await context.recordDurably("result-stored", result.fields)
        context.notify(.resultStored(path: request.path))
        return resultReply(201, result)
    }

    private func resultReply(_ status: Int, _ result: StoredResult) -> Reply {
        .json(status, .object(result.fields))
    }

    public func recover(_ entry: JournalEntry) throws {
        guard entry.kind == "result-stored", let result = StoredResult(entry.fields) else { return }
        stored.withLock { $0[result.path] = result }
    }

    public func report() -> [String: JSONValue] {
        let results = stored.withLock { $0.values.sorted { $0.path < $1.path } }
        return ["results": .array(results.map { .object($0.fields) })]
    }
}

struct StoredResult: Sendable {
    var path: String
    var file: String
    var size: Int64
    var sha256: String

    init(path: String, file: String, size: Int64, sha256: String) {
        self.path = path
        self.file = file
        self.size = size
        self.sha256 = sha256
    }

    init?(_ fields: [String: JSONValue]) {
        guard let path = fields["path"]?.stringValue, let file = fields["file"]?.stringValue,
            let size = fields["size"]?.intValue, let sha = fields["sha256"]?.stringValue
        else { return nil }
        self.init(path: path, file: file, size: size, sha256: sha)
    }

    var fields: [String: JSONValue] {
        ["path": .string(path), "file": .string(file), "size": .int(size), "sha256": .string(sha256)]
    }
}
