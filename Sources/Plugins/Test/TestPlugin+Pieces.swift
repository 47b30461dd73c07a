import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

extension TestPlugin {
    /// The most separate ranges one resumable upload may have at a time.
    static let maxRanges = 4096

    /// One piece of a resumable upload (`Content-Range: bytes FIRST-LAST/TOTAL`): written at
    /// its offset into `results/.partial-<name>.pieces`, synced and journaled before the 202;
    /// the piece that completes the file moves it into place and answers 201.
    func storePiece(_ request: GuestRequest, place: ResultPlace, range: ContentRange, body: RequestBody) async throws -> Reply {
        let path = request.path
        let key = place.key
        let limit = context.configuration.maxResultSize
        guard range.total <= limit else {
            throw GuestError(413, "result of \(range.total) bytes is over the limit of \(limit) bytes")
        }
        if let announced = body.expectedLength, announced != range.length {
            throw GuestError(400, "Content-Length \(announced) does not match Content-Range \(range.first)-\(range.last) (\(range.length) bytes)")
        }
        let fileName = ResultNames.fileName(for: path)
        let claim = state.withLock { state -> Claim in
            if let stored = state.stored[key] { return .complete(stored) }
            if state.busy.contains(key) { return .busy }
            if let partial = state.partial[key], partial.total != range.total { return .otherTotal(partial.total) }
            state.busy.insert(key)
            return .claimed(state.partial[key] ?? PartialUpload(total: range.total, file: place.folder + ".partial-\(fileName).pieces"))
        }
        var upload: PartialUpload
        switch claim {
        case .complete(let stored):
            return try await comparePiece(range, body: body, with: stored)
        case .busy:
            throw GuestError(429, "another piece of \(path) is arriving; send this one again when it is answered")
        case .otherTotal(let total):
            context.record("result-conflict", ["path": .string(path), "total": .int(total), "sent_total": .int(range.total)])
            throw GuestError(409, "\(path) is being uploaded with a total of \(total) bytes, not \(range.total)")
        case .claimed(let partial):
            upload = partial
        }
        defer { state.withLock { _ = $0.busy.remove(key) } }
        _ = try directory(of: place)

        guard upload.ranges.countAfterInserting(range.range) <= Self.maxRanges else {
            throw GuestError(413, "\(path) has too many separate pieces (at most \(Self.maxRanges) ranges)")
        }
        let file = try PieceFile(url: context.resultsDirectory.appendingPathComponent(upload.file), total: range.total)
        defer { file.close() }
        do {
            try await receive(body, into: file, range: range, received: upload.ranges, path: path)
            try await blocking { try file.sync() }
        } catch {
            // A first piece that failed leaves no partial file behind.
            if upload.ranges.count == 0 { unlink(file.url.path) }
            context.record("piece-incomplete", [
                "path": .string(path), "first": .int(range.first), "last": .int(range.last), "total": .int(range.total),
                "reason": .string("\(error)"),
            ])
            throw error
        }
        upload.ranges.insert(range.range)
        upload.pieces += 1
        var pieceFields: [String: JSONValue] = [
            "path": .string(path), "first": .int(range.first), "last": .int(range.last), "total": .int(range.total),
            "partial": .string(upload.file),
        ]
        if let guest = place.guest { pieceFields["guest"] = .string(guest) }
        try await context.recordDurably("piece-stored", pieceFields)
        let updated = upload
        state.withLock { $0.partial[key] = updated }
        guard upload.ranges.covers(total: upload.total) else {
            var answer = upload.fields
            answer["path"] = .string(path)
            return Reply(status: 202, headers: [
                ("Content-Type", "application/json"), ("X-Received-Ranges", upload.ranges.description),
                ("X-Total-Length", String(upload.total)),
            ], body: .bytes(JSONValue.object(answer).encoded(pretty: false) + Data("\n".utf8)))
        }
        return try await complete(upload, file: file, place: place, fileName: fileName)
    }

    private enum Claim {
        case complete(StoredResult)
        case busy
        case otherTotal(Int64)
        case claimed(PartialUpload)
    }

    /// Streams the body into its place; bytes that already arrived must be equal.
    private func receive(_ body: RequestBody, into file: PieceFile, range: ContentRange, received: ByteRanges, path: String) async throws {
        var offset = range.first
        for try await chunk in body {
            guard offset + Int64(chunk.count) <= range.last + 1 else {
                throw GuestError(400, "the piece is longer than its Content-Range \(range.first)-\(range.last)")
            }
            guard try file.place(chunk, at: offset, received: received) else {
                context.record("result-conflict", [
                    "path": .string(path), "first": .int(range.first), "last": .int(range.last),
                    "reason": .string("overlaps bytes already received with different content"),
                ])
                throw GuestError(409, "the piece \(range.first)-\(range.last) of \(path) overlaps bytes already received with different content")
            }
            offset += Int64(chunk.count)
        }
        guard offset == range.last + 1 else {
            throw GuestError(400, "the piece has \(offset - range.first) bytes, its Content-Range \(range.first)-\(range.last) says \(range.length)")
        }
    }

    /// The last piece is in: hash the whole file, move it into place, journal it, answer 201.
    private func complete(_ upload: PartialUpload, file: PieceFile, place: ResultPlace, fileName: String) async throws -> Reply {
        let digest = try file.digest()
        var result = StoredResult(
            path: place.path, file: "results/" + place.folder + fileName, size: upload.total, sha256: digest, pieces: upload.pieces)
        result.guest = place.guest
        var head = Data()
        if upload.total > 0 {
            // Only the first bytes, to tell XML from anything else.
            head = Data(FileIO.contents(ofFile: file.url.path, count: 64)?.bytes ?? [])
        }
        state.withLock { $0.stored[place.key] = result }
        let directory = try directory(of: place)
        guard rename(file.url.path, directory.appendingPathComponent(fileName).path) == 0 else {
            let failure = POSIXFailure("rename \(file.url.path)", errno)
            state.withLock { _ = $0.stored.removeValue(forKey: place.key) }
            throw failure
        }
        FileIO.syncDirectory(directory)
        return try await finishStored(result, head: head)
    }

    /// A piece of a result that is already complete: 200 if it matches what is stored, else 409.
    private func comparePiece(_ range: ContentRange, body: RequestBody, with stored: StoredResult) async throws -> Reply {
        guard range.total == stored.size else {
            return try answerRepeat(of: stored, sha256: "(a different total: \(range.total) bytes)", size: range.total)
        }
        let file = try PieceFile(existing: context.runDirectory.appendingPathComponent(stored.file))
        defer { file.close() }
        var offset = range.first
        for try await chunk in body {
            guard offset + Int64(chunk.count) <= range.last + 1, try file.equal(chunk, at: offset) else {
                return try answerRepeat(of: stored, sha256: "(a piece \(range.first)-\(range.last) that differs)", size: range.total)
            }
            offset += Int64(chunk.count)
        }
        return .json(200, .object(stored.fields))
    }
}
