import Crypto
import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// After a crash (`support-host recover`): every result the journal says was stored is hashed
/// again; a small one whose file a machine crash lost or tore is written back from its
/// `result-stored` record (`inline_base64`: that record's fsync is the one that made the
/// upload durable); the temporary files of uploads never acknowledged are removed.
extension TestPlugin {
    /// The field of a `result-stored` record that carries a small result's bytes (base64).
    /// Reports never show it.
    static let inlineResultField = "inline_base64"

    /// The run's end: the small results' files not written yet (`DeferredResultFiles`), and any
    /// small result's file a host before this one stopped before writing (a resumed run).
    public func finishFiles(_ records: FileRecovery) async {
        let waiting = deferredFiles.waitingFiles
        let missing = state.withLock { state in
            state.stored.values.filter { result in
                result.size <= ResultWriter.inlineLimit && result.pieces == nil && !waiting.contains(result.file)
                    && access(context.runDirectory.appendingPathComponent(result.file).path, F_OK) != 0
            }.map { ($0.file, $0.sha256) }
        }
        await deferredFiles.writeAll(alsoMissing: Dictionary(missing) { first, _ in first }, records: records)
    }

    public func recoverFiles(_ recovery: FileRecovery) -> [String: JSONValue] {
        let directory = recovery.runDirectory
        let results = (report()["results"]?.arrayValue ?? []).compactMap(\.objectValue)
        var digests = results.map { item in item["file"]?.stringValue.flatMap { FileDigest.sha256(of: directory.appendingPathComponent($0)) } }
        var lost: [String: String] = [:]
        for (item, digest) in zip(results, digests) {
            if let file = item["file"]?.stringValue, let expected = item["sha256"]?.stringValue, digest != expected { lost[file] = expected }
        }
        let restored = Self.restore(lost, in: directory, from: recovery)
        var checked: [JSONValue] = []
        for (index, var item) in results.enumerated() {
            let file = item["file"]?.stringValue ?? ""
            if restored.contains(file) {
                item["restored_from_journal"] = true
                digests[index] = FileDigest.sha256(of: directory.appendingPathComponent(file))
            }
            let digest = digests[index]
            item["verified"] = .bool(digest != nil && digest == item["sha256"]?.stringValue)
            if digest == nil { item["problem"] = "the file is missing" }
            else if let digest, digest != item["sha256"]?.stringValue { item["problem"] = .string("the file's sha256 is now \(digest)") }
            checked.append(.object(item))
        }
        var sections: [String: JSONValue] = ["results": .array(checked)]
        let resultsFolder = directory.appendingPathComponent("results")
        let guestFolders = context.configuration.guests.count > 1 ? context.configuration.guests.map(\.name) : []
        let removed = Self.removeUnacknowledged(in: resultsFolder)
            + guestFolders.flatMap { guest in Self.removeUnacknowledged(in: resultsFolder.appendingPathComponent(guest)).map { "\(guest)/\($0)" } }
        if !removed.isEmpty { sections["removed_incomplete_uploads"] = .array(removed.map { .string($0) }) }
        return sections
    }

    /// Writes back the files (relative to the run directory, each with the digest expected)
    /// whose bytes a `result-stored` record holds; returns those restored. One more pass over
    /// the plug-in's records, made only when a result failed its check.
    private static func restore(_ expected: [String: String], in directory: URL, from recovery: FileRecovery) -> Set<String> {
        guard !expected.isEmpty else { return [] }
        var found: [String: String] = [:]
        recovery.forEachOwnEntry { entry in
            guard entry.kind == "result-stored", let file = entry.field("file")?.stringValue, expected[file] != nil,
                isResultFile(file), let inline = entry.field(inlineResultField)?.stringValue
            else { return }
            found[file] = inline
        }
        var restored: Set<String> = []
        for (file, encoded) in found {
            guard let bytes = Data(base64Encoded: encoded), hexEncoded(SHA256.hash(data: bytes)) == expected[file],
                (try? FileIO.replaceDurably(directory.appendingPathComponent(file), with: bytes, temporaryPrefix: ".restoring-")) != nil
            else { continue }
            restored.insert(file)
        }
        return restored
    }

    /// `results/NAME` or `results/GUEST/NAME` with plain names: a record can never make
    /// `recover` write elsewhere.
    static func isResultFile(_ file: String) -> Bool {
        guard file.hasPrefix("results/") else { return false }
        let parts = file.dropFirst("results/".count).split(separator: "/", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") }
    }

    /// Temporary files of whole uploads that never completed (`ResultWriter`'s `.partial-…`;
    /// a resumable upload's `.pieces` file is kept, it may still be completed).
    private static func removeUnacknowledged(in results: URL) -> [String] {
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: results.path)) ?? [])
            .filter { $0.hasPrefix(ResultWriter.temporaryPrefix) && !$0.hasSuffix(".pieces") }.sorted()
        for name in leftovers { try? FileManager.default.removeItem(at: results.appendingPathComponent(name)) }
        return leftovers
    }
}
