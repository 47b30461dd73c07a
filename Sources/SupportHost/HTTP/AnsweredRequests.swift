import FoundationEssentials
import PluginAPI
import Synchronization

/// Duplicate discard (Rover's MSGID): an upload carrying `X-Request-Id` that was already
/// answered gets the same answer again without being applied twice — across a resume too, since
/// each answer is journaled (durably, before the guest hears it).
final class AnsweredRequests: Sendable {
    struct Answer: Sendable {
        let status: Int
        let contentType: String?
        let body: Data
    }

    enum Lookup {
        case new
        case answered(Answer)
        case inFlight
    }

    static let maxIDLength = 200
    static let maxRemembered = 100_000
    static let maxBody = 64 * 1024

    private let state = Mutex<(answers: [String: Answer], inFlight: Set<String>)>(([:], []))

    /// Looks an id up; a new one is marked in flight until `remember` or `forget`.
    func begin(_ id: String) -> Lookup {
        state.withLock { state in
            if let answer = state.answers[id] { return .answered(answer) }
            if state.inFlight.contains(id) { return .inFlight }
            state.inFlight.insert(id)
            return .new
        }
    }

    func remember(_ id: String, _ answer: Answer) {
        state.withLock { state in
            state.inFlight.remove(id)
            if state.answers.count < Self.maxRemembered { state.answers[id] = answer }
        }
    }

    func forget(_ id: String) {
        _ = state.withLock { $0.inFlight.remove(id) }
    }

    /// The answer of a reply, if it can be replayed (a body held in memory, not too large).
    static func answer(of reply: Reply) -> Answer? {
        let contentType = reply.headers.first { $0.name.lowercased() == "content-type" }?.value
        switch reply.body {
        case .empty: return Answer(status: reply.status, contentType: contentType, body: Data())
        case .bytes(let data) where data.count <= maxBody: return Answer(status: reply.status, contentType: contentType, body: data)
        default: return nil
        }
    }

    /// The journal record of an answer, and the answer back from it.
    static func fields(_ id: String, _ answer: Answer) -> [String: JSONValue] {
        [
            "request_id": .string(id), "status": .int(Int64(answer.status)),
            "content_type": answer.contentType.map { .string($0) } ?? .null,
            "body_base64": .string(answer.body.base64EncodedString()),
        ]
    }

    /// Rebuilds the answers from a journal, for a host taking a run over.
    func load(_ entries: [JournalEntry]) {
        for entry in entries where entry.source == "host" && entry.kind == "answer" {
            guard let id = entry.fields["request_id"]?.stringValue, let status = entry.fields["status"]?.intValue,
                let body = entry.fields["body_base64"]?.stringValue.flatMap({ Data(base64Encoded: $0) })
            else { continue }
            remember(id, Answer(status: Int(status), contentType: entry.fields["content_type"]?.stringValue, body: body))
        }
    }
}

extension ServerServices {
    /// Journals an import's answer durably, then remembers it; a 5xx is not remembered, so the
    /// guest's retry is applied again.
    func rememberAnswer(_ reply: Reply, for id: String) async {
        guard reply.status < 500, let answer = AnsweredRequests.answer(of: reply) else {
            answered.forget(id)
            return
        }
        do {
            try await journal.appendDurably(source: "host", kind: "answer", fields: AnsweredRequests.fields(id, answer))
            answered.remember(id, answer)
        } catch {
            answered.forget(id)
        }
    }
}
