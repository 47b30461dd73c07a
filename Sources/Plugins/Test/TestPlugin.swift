import FoundationEssentials
import PITAXML
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// Result files: the guest `PUT`s each configured result path, whole or in pieces with
/// `Content-Range`; the body streams to a file in `results/`, is hashed, made durable and
/// renamed into place. `HEAD` on a result path tells what has arrived. A result that is a
/// PITA-XML document is summarised (`<report>`) or read for platforms (`<guest>`).
public final class TestPlugin: Plugin {
    public static let name = "Test"
    public static let summary = "result files: PUT (whole or Content-Range pieces) to a configured path, stored durably with size and sha256; HEAD tells what arrived"
    public static let hooks: Set<Hook> = [.import, .export, .command, .recover]
    public static let namespaceSummary = "each --result / --optional-result path"

    let context: any HostContext
    let state = Locked(TestState())
    /// Every guest's result paths as `ResultPlace` keys: a lookup per upload, not a scan of
    /// the job's list (a job may name hundreds of thousands of paths).
    let resultKeys: Set<String>
    let deferredFiles: DeferredResultFiles

    public init(context: any HostContext) throws {
        self.context = context
        try context.settings.allowOnly(["deferred_file_bytes"])
        let budget = try context.settings.int("deferred_file_bytes") ?? (32 << 20)
        guard (0...(1 << 30)).contains(budget) else {
            throw PluginError.badSetting(key: "deferred_file_bytes", value: "\(budget)", reason: "must be 0 to 1073741824")
        }
        deferredFiles = DeferredResultFiles(runDirectory: context.runDirectory, memoryBudget: Int(budget)) { file, reason in
            context.record("result-file-not-written", ["file": .string(file), "reason": .string(reason)])
        }
        let configuration = context.configuration
        let guests = configuration.guests.count > 1 ? configuration.guests.map(\.name) : [nil]
        resultKeys = Set(guests.flatMap { guest in
            (guest.map { configuration.results(of: $0) } ?? configuration.results).map { ResultPlace.key(guest: guest, path: $0.path) }
        })
    }

    public var namespaces: [Namespace] { context.configuration.results.map { .exact($0.path) } }

    public func importData(_ request: GuestRequest, body: RequestBody) async throws -> Reply {
        guard request.method == "PUT" else {
            throw GuestError(405, "result files are sent with PUT, not \(request.method)")
        }
        let place = try place(of: request)
        if let header = request.header("content-range") {
            return try await storePiece(request, place: place, range: try ContentRange(header: header), body: body)
        }
        return try await storeWhole(request, place: place, body: body)
    }

    private func storeWhole(_ request: GuestRequest, place: ResultPlace, body: RequestBody) async throws -> Reply {
        let limit = context.configuration.maxResultSize
        if let announced = body.expectedLength, announced > limit {
            throw GuestError(413, "result of \(announced) bytes is over the limit of \(limit) bytes")
        }
        var writer = try ResultWriter(directory: try directory(of: place))
        do {
            for try await chunk in body {
                guard writer.size + Int64(chunk.count) <= limit else {
                    throw GuestError(413, "result is over the limit of \(limit) bytes")
                }
                try await writer.write(chunk)
            }
        } catch {
            await writer.discard()
            context.record("result-incomplete", [
                "path": .string(request.path), "bytes": .int(writer.size), "reason": .string("\(error)"),
            ])
            throw error
        }
        let digest = writer.digest
        let fileName = ResultNames.fileName(for: request.path)
        var result = StoredResult(path: request.path, file: "results/" + place.folder + fileName, size: writer.size, sha256: digest)
        result.guest = place.guest
        // Claim the path before renaming, so two uploads racing to it cannot both store.
        let earlier = state.withLock { state -> StoredResult? in
            if let earlier = state.stored[place.key] { return earlier }
            state.stored[place.key] = result
            return nil
        }
        if let earlier {
            await writer.discard()
            return try answerRepeat(of: earlier, sha256: digest, size: writer.size)
        }
        do {
            // A small result's file is written later (`DeferredResultFiles`): its record holds it.
            if writer.inlineBytes == nil { try await writer.commit(as: fileName) }
        } catch {
            state.withLock { _ = $0.stored.removeValue(forKey: place.key) }
            await writer.discard()
            throw error
        }
        return try await finishStored(result, head: writer.head, inline: writer.inlineBytes)
    }

    /// 200 for the same content again, 409 (journaled with both digests) for other content.
    func answerRepeat(of earlier: StoredResult, sha256: String, size: Int64) throws -> Reply {
        if earlier.sha256 == sha256 { return .json(200, .object(earlier.fields)) }
        context.record("result-conflict", [
            "path": .string(earlier.path), "stored_sha256": .string(earlier.sha256), "sent_sha256": .string(sha256),
            "stored_size": .int(earlier.size), "sent_size": .int(size),
        ])
        throw GuestError(409, "\(earlier.path) is already stored with sha256 \(earlier.sha256); this upload has sha256 \(sha256)", details: [
            "stored_sha256": .string(earlier.sha256), "sent_sha256": .string(sha256),
        ])
    }

    /// Journals a result that is on stable storage (or whose bytes the record carries), tells
    /// the run, reads it if it is PITA-XML, and answers 201.
    func finishStored(_ result: StoredResult, head: Data, inline: Data? = nil) async throws -> Reply {
        var fields = result.fields
        if let inline { fields[Self.inlineResultField] = .string(inline.base64EncodedString()) }
        try await context.recordDurably("result-stored", fields)
        if let inline { deferredFiles.add(file: result.file, bytes: inline, sha256: result.sha256) }
        state.withLock { state in
            if let partial = state.partial.removeValue(forKey: result.key), "results/" + partial.file != result.file {
                unlink(context.resultsDirectory.appendingPathComponent(partial.file).path)
            }
        }
        context.notify(.resultStored(path: result.path, file: result.file, size: result.size, sha256: result.sha256, guest: result.guest))
        var answer = result.fields
        answer.merge(try await readDocument(result, head: head, bytes: inline)) { current, _ in current }
        return .json(201, .object(answer))
    }

    /// `HEAD` on a result path: 200 when it is complete, 206 while pieces are missing, 404 when
    /// nothing has arrived; `X-Received-Ranges` and `X-Total-Length` say what is there.
    public func exportData(_ request: GuestRequest) throws -> Reply {
        guard request.method == "HEAD" else {
            throw GuestError(405, "result files are not served back; HEAD \(request.path) tells what has arrived")
        }
        let key = try place(of: request).key
        let (stored, partial) = state.withLock { ($0.stored[key], $0.partial[key]) }
        if let stored {
            return Reply(status: 200, headers: [
                ("X-Upload-Complete", "yes"), ("X-Total-Length", String(stored.size)),
                ("X-Received-Ranges", stored.size > 0 ? "0-\(stored.size - 1)" : ""), ("X-Sha256", stored.sha256),
            ])
        }
        if let partial {
            return Reply(status: 206, headers: [
                ("X-Upload-Complete", "no"), ("X-Total-Length", String(partial.total)),
                ("X-Received-Ranges", partial.ranges.description), ("X-Missing-Bytes", String(partial.total - partial.ranges.count)),
            ])
        }
        return Reply(status: 404, headers: [("X-Upload-Complete", "no"), ("X-Received-Ranges", "")])
    }

    public func recover(_ entry: JournalEntry) throws {
        let fields = entry.fields
        switch entry.kind {
        case "result-stored":
            guard let result = StoredResult(entry) else { return }
            state.withLock {
                $0.stored[result.key] = result
                $0.partial[result.key] = nil
            }
        case "piece-stored":
            guard let path = fields["path"]?.stringValue, let first = fields["first"]?.intValue,
                let last = fields["last"]?.intValue, let total = fields["total"]?.intValue, first <= last,
                let file = fields["partial"]?.stringValue
            else { return }
            let key = ResultPlace.key(guest: fields["guest"]?.stringValue, path: path)
            state.withLock { state in
                var upload = state.partial[key] ?? PartialUpload(total: total, file: file)
                upload.ranges.insert(first...last)
                upload.pieces += 1
                state.partial[key] = upload
            }
        case "result-summary":
            guard let path = fields["path"]?.stringValue, let summary = fields["pita_report"] else { return }
            state.withLock { $0.summaries[ResultPlace.key(guest: fields["guest"]?.stringValue, path: path)] = summary }
        case "platform":
            guard let platform = Platform(fields: fields) else { return }
            state.withLock { $0.platforms.insert(platform, fields: fields) }
        default:
            return
        }
    }

    public func report() -> [String: JSONValue] {
        state.withLock { state in
            let results = state.stored.values.sorted { ($0.guest ?? "", $0.path) < ($1.guest ?? "", $1.path) }.map { result -> JSONValue in
                var fields = result.fields
                if let summary = state.summaries[result.key] { fields["pita_report"] = summary }
                return .object(fields)
            }
            let partial = state.partial.sorted { $0.key < $1.key }.map { key, upload -> JSONValue in
                var fields = upload.fields
                let (guest, path) = ResultPlace.split(key)
                fields["path"] = .string(path)
                if let guest { fields["guest"] = .string(guest) }
                fields["pieces"] = .int(upload.pieces)
                return .object(fields)
            }
            var sections: [String: JSONValue] = ["results": .array(results), "incomplete_uploads": .array(partial)]
            if !state.platforms.isEmpty { sections["platforms"] = .array(state.platforms.all) }
            if let grade = TestGrade.of(summaries: state.summaries) { sections.merge(grade.reportFields) { current, _ in current } }
            return sections
        }
    }
}
