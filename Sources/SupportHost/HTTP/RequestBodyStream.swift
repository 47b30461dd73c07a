import FoundationEssentials
import NIOCore
import PluginAPI

/// Carries a request body from the event loop to a plug-in's import hook with back-pressure:
/// when the plug-in falls behind, the connection stops reading until it catches up.
struct RequestBodyStream {
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        Data, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, ReadGate
    >

    let source: Producer.Source
    let sequence: Producer

    init(gate: ReadGate) {
        let made = Producer.makeSequence(
            elementType: Data.self,
            failureType: (any Error).self,
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8),
            finishOnDeinit: false,
            delegate: gate)
        source = made.source
        sequence = made.sequence
    }

    /// The body as the plug-in sees it. Call from the task that runs the hook.
    static func body(of sequence: Producer, expectedLength: Int64?) -> RequestBody {
        let iterator = IteratorBox(sequence.makeAsyncIterator())
        return RequestBody(expectedLength: expectedLength) { try await iterator.next() }
    }

    private final class IteratorBox {
        var iterator: Producer.AsyncIterator
        init(_ iterator: Producer.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> Data? { try await iterator.next() }
    }
}

/// Tells a connection to read again when the plug-in wants more of the body.
struct ReadGate: NIOAsyncSequenceProducerDelegate {
    let resume: @Sendable () -> Void

    func produceMore() { resume() }
    func didTerminate() { resume() }
}

/// The guest hung up or sent less than it announced.
enum BodyError: Error, CustomStringConvertible {
    case connectionClosed(received: Int64)
    case shorterThanAnnounced(received: Int64, announced: Int64)

    var description: String {
        switch self {
        case .connectionClosed(let received): return "connection closed after \(received) bytes of the body"
        case .shorterThanAnnounced(let received, let announced):
            return "body of \(received) bytes is shorter than its Content-Length \(announced)"
        }
    }
}
