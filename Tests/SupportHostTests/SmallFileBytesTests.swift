import Foundation
import NIOCore
import PluginAPI
@testable import SupportHost
import Testing

/// Small files answered from memory: the bytes of the file as it is now, never a stale copy,
/// and never more than the budget held.
struct SmallFileBytesTests {
    /// Writes a file that was last changed a minute ago (a settled file the store keeps).
    static func write(_ text: String, to url: URL, settled: Bool = true) throws -> FileSlice {
        try Data(text.utf8).write(to: url)
        if settled { try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: url.path) }
        let identity = try OpenFileCacheTests.identity(url.path)
        return FileSlice(path: url.path, offset: 0, length: identity.size, identity: identity)
    }

    static func text(_ result: Result<ByteBuffer, OpenFileCache.Failure>?) -> String? {
        guard case .success(let bytes)? = result else { return nil }
        return String(buffer: bytes)
    }

    @Test func aFileIsReadOnceAndSlicedForRanges() throws {
        let url = Fixtures.temporaryDirectory("small").appendingPathComponent("a.txt")
        var slice = try Self.write("hello, world", to: url)
        let store = SmallFileBytes(budget: 1 << 20)
        #expect(Self.text(store.bytes(for: slice)) == "hello, world")
        #expect(store.heldBytes == 12)
        slice.offset = 7
        slice.length = 5
        #expect(Self.text(store.bytes(for: slice)) == "world")
        #expect(store.heldBytes == 12)
    }

    @Test func aChangedFileIsReadAgain() throws {
        let url = Fixtures.temporaryDirectory("small").appendingPathComponent("a.txt")
        let store = SmallFileBytes(budget: 1 << 20)
        let old = try Self.write("old bytes", to: url)
        #expect(Self.text(store.bytes(for: old)) == "old bytes")
        let replacement = url.appendingPathExtension("new")
        let new = try Self.write("new bytes, longer", to: replacement)
        try FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: replacement, to: url)
        let renamed = FileSlice(path: url.path, offset: 0, length: new.length, identity: new.identity)
        #expect(Self.text(store.bytes(for: renamed)) == "new bytes, longer")
        // A request still carrying the old identity is refused, not answered with either copy.
        guard case .failure(let failure)? = store.bytes(for: old) else {
            Issue.record("the old file's identity was served")
            return
        }
        #expect(failure.status == 503)
    }

    @Test func largeFilesAndFilesWithoutIdentityAreLeftToSendfile() throws {
        let directory = Fixtures.temporaryDirectory("small")
        let large = directory.appendingPathComponent("large.bin")
        try Data(count: Int(SmallFileBytes.maximumFileSize) + 1).write(to: large)
        let identity = try OpenFileCacheTests.identity(large.path)
        let store = SmallFileBytes()
        #expect(store.bytes(for: FileSlice(path: large.path, offset: 0, length: identity.size, identity: identity)) == nil)
        let small = try Self.write("x", to: directory.appendingPathComponent("x"))
        #expect(store.bytes(for: FileSlice(path: small.path, offset: 0, length: 1)) == nil)
    }

    @Test func aFileChangedInTheLastSecondIsReadEachTimeNotKept() throws {
        let url = Fixtures.temporaryDirectory("small").appendingPathComponent("fresh.txt")
        let slice = try Self.write("just written", to: url, settled: false)
        let store = SmallFileBytes(budget: 1 << 20)
        #expect(Self.text(store.bytes(for: slice)) == "just written")
        #expect(store.heldBytes == 0, "an mtime this recent may not describe the bytes yet")
    }

    @Test func aSlicePastTheEndIsRefusedNotSentShort() throws {
        let url = Fixtures.temporaryDirectory("small").appendingPathComponent("a.txt")
        var slice = try Self.write("0123456789", to: url)
        slice.offset = 8
        slice.length = 5
        guard case .failure(let failure)? = SmallFileBytes().bytes(for: slice) else {
            Issue.record("a slice past the end was answered")
            return
        }
        #expect(failure.status == 500)
    }

    @Test func neverHoldsMoreThanItsBudget() throws {
        let directory = Fixtures.temporaryDirectory("small")
        let store = SmallFileBytes(budget: 2500)
        for index in 0..<10 {
            let slice = try Self.write(String(repeating: "\(index)", count: 1000), to: directory.appendingPathComponent("f\(index)"))
            #expect(Self.text(store.bytes(for: slice)) == String(repeating: "\(index)", count: 1000))
            #expect(store.heldBytes <= 2500)
        }
        #expect(store.heldBytes == 2000)
    }
}
