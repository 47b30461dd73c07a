import Foundation
import NIOCore
import NIOPosix
import PluginAPI
@testable import SupportHost
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The per-loop cache of open files, on a real event loop.
struct OpenFileCacheTests {
    static func file(_ text: String) throws -> (path: String, identity: FileIdentity) {
        let url = Fixtures.temporaryDirectory("cache").appendingPathComponent("f.txt")
        try Data(text.utf8).write(to: url)
        return (url.path, try identity(url.path))
    }

    static func identity(_ path: String) throws -> FileIdentity {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return FileIdentity(info)
    }

    /// Runs `body` on one event loop of its own.
    static func onLoop<T: Sendable>(_ body: @escaping @Sendable (OpenFileCache) throws -> T) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let cache = OpenFileCache(loop: loop, capacity: 2)
        let result: Result<T, any Error>
        do {
            result = .success(try await loop.submit {
                defer { cache.closeAll() }
                return try body(cache)
            }.get())
        } catch {
            result = .failure(error)
        }
        try await group.shutdownGracefully()
        return try result.get()
    }

    @Test func theSameFileIsSentFromTheSameDescriptor() async throws {
        let (path, identity) = try Self.file("hello")
        let reused = try await Self.onLoop { cache in
            let first = try cache.checkOut(FileSlice(path: path, offset: 0, length: 5, identity: identity)).get()
            cache.checkIn(first)
            let second = try cache.checkOut(FileSlice(path: path, offset: 0, length: 5, identity: identity)).get()
            cache.checkIn(second)
            return first === second && first.handle.isOpen
        }
        #expect(reused)
    }

    @Test func aChangedFileIsOpenedAnew() async throws {
        let (path, old) = try Self.file("hello")
        let replacement = path + ".new"
        try Data("changed!".utf8).write(to: URL(fileURLWithPath: replacement))
        let (reopened, oldClosed) = try await Self.onLoop { cache in
            let first = try cache.checkOut(FileSlice(path: path, offset: 0, length: 5, identity: old)).get()
            cache.checkIn(first)
            rename(replacement, path)
            let new = try Self.identity(path)
            let second = try cache.checkOut(FileSlice(path: path, offset: 0, length: 8, identity: new)).get()
            cache.checkIn(second)
            return (first !== second, !first.handle.isOpen)
        }
        #expect(reopened)
        #expect(oldClosed)
    }

    @Test func aFileThatIsNotTheOneCheckedIsRefusedWith503() async throws {
        let (path, identity) = try Self.file("hello")
        let stale = FileIdentity(device: identity.device, inode: identity.inode, size: identity.size + 1, modified: identity.modified)
        let status = try await Self.onLoop { cache -> Int in
            switch cache.checkOut(FileSlice(path: path, offset: 0, length: 6, identity: stale)) {
            case .success(let entry):
                cache.checkIn(entry)
                return 200
            case .failure(let failure):
                return failure.status
            }
        }
        #expect(status == 503)
    }

    @Test func anEvictedFileStaysOpenUntilItsLastSendEnds() async throws {
        let files = try (0..<3).map { try Self.file("file \($0)") }
        let (openWhileSending, closedAfter, count) = try await Self.onLoop { cache in
            let busy = try cache.checkOut(FileSlice(path: files[0].path, offset: 0, length: 6, identity: files[0].identity)).get()
            for file in files.dropFirst() {
                cache.checkIn(try cache.checkOut(FileSlice(path: file.path, offset: 0, length: 6, identity: file.identity)).get())
            }
            let open = busy.handle.isOpen
            cache.checkIn(busy)
            return (open, !busy.handle.isOpen, cache.count)
        }
        #expect(openWhileSending)
        #expect(closedAfter)
        #expect(count == 2)
    }
}
