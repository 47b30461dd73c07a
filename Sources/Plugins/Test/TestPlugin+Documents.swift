import FoundationEssentials
import PITAXML
import PluginAPI

extension TestPlugin {
    /// Reads a stored result that is a PITA-XML document: a `<report>` is summarised, a
    /// `<guest>` (PITA's image manager sends its discovery to `/<job_id>`) gives platforms.
    /// The result itself is stored whatever its content; a document that is too large, refused
    /// (a DTD, entities) or not PITA-XML is simply not read, and the journal says why.
    /// Returns what to add to the answer.
    func readDocument(_ result: StoredResult, head: Data, bytes: Data? = nil) async throws -> [String: JSONValue] {
        guard PITADocument.looksLikeXML(head) else { return [:] }
        guard result.size <= Int64(PITADocument.maxParsedBytes) else {
            context.record("result-not-read", [
                "path": .string(result.path),
                "reason": .string("\(result.size) bytes is over the \(PITADocument.maxParsedBytes) bytes read as PITA-XML"),
            ])
            return [:]
        }
        let document: PITADocument?
        do {
            // A small result's file may not be written yet: its bytes come from the upload.
            let data = try bytes ?? Data(contentsOf: context.runDirectory.appendingPathComponent(result.file))
            document = try PITADocument.read(data)
        } catch {
            context.record("result-not-read", ["path": .string(result.path), "reason": .string("\(error)")])
            return ["pita_xml": .string("not read: \(error)")]
        }
        switch document {
        case .report(let summary):
            var fields: [String: JSONValue] = ["path": .string(result.path), "pita_report": summary.json]
            if let guest = result.guest { fields["guest"] = .string(guest) }
            try await context.recordDurably("result-summary", fields)
            state.withLock { $0.summaries[result.key] = summary.json }
            return ["pita_report": summary.json]
        case .guest(let platforms):
            var answers: [JSONValue] = []
            for platform in platforms {
                var fields = platform.fields
                fields["received_at"] = .string(result.path)
                try await context.recordDurably("platform", fields)
                state.withLock { $0.platforms.insert(platform, fields: fields) }
                answers.append(["scheme": .string(platform.scheme), "path": .string(platform.path), "hash": .string(platform.hash)])
            }
            return ["platforms": .array(answers)]
        case nil:
            return [:]
        }
    }
}
