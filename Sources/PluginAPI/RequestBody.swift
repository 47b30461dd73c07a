import FoundationEssentials

/// A request body as a stream of chunks, in order, with back-pressure: the host reads more from
/// the connection only as the plug-in consumes chunks, so a large upload never sits in memory.
///
/// Iterate it once. It throws when the client drops the connection or sends fewer bytes than
/// its `Content-Length` announced.
///
/// ```swift
/// for try await chunk in body { try file.write(contentsOf: chunk) }
/// ```
public struct RequestBody: AsyncSequence {
    public typealias Element = Data

    /// The length the client announced, if it did.
    public let expectedLength: Int64?
    private let nextChunk: () async throws -> Data?

    /// Creates a body from a function that returns the next chunk, or `nil` at the end.
    public init(expectedLength: Int64?, next: @escaping () async throws -> Data?) {
        self.expectedLength = expectedLength
        self.nextChunk = next
    }

    /// A body that is already complete, for tests and for plug-ins calling each other.
    public static func of(_ data: Data) -> RequestBody {
        var sent = false
        return RequestBody(expectedLength: Int64(data.count)) {
            if sent { return nil }
            sent = true
            return data
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextChunk: () async throws -> Data?
        public mutating func next() async throws -> Data? { try await nextChunk() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextChunk: nextChunk) }

    /// Collects at most `limit` bytes; for small documents (platform descriptions) only.
    public func collect(upTo limit: Int) async throws -> Data {
        var data = Data()
        for try await chunk in self {
            guard data.count + chunk.count <= limit else {
                throw GuestError(413, "body larger than \(limit) bytes")
            }
            data.append(chunk)
        }
        return data
    }
}
