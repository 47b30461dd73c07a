import Foundation
import Testing

@testable import SupportHostTest

/// `DirectWriter`: a large result's bytes reach its file whole, in order, whatever the sizes of
/// the chunks and of the result, past the page cache and through it.
struct DirectWriterTests {
    /// Sizes around the block size and the alignment, and more blocks than may be in flight.
    static let sizes = [1, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, (3 << 20) + 4096, (6 << 20) + 4097]

    @Test(arguments: [true, false])
    func everyByteReachesTheFile(pastPageCache: Bool) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("direct-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for size in Self.sizes {
            let bytes = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) })
            let path = directory.appendingPathComponent("r-\(size)").path
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            try #require(fd >= 0)
            let writer = DirectWriter(fd: fd, pastPageCache: pastPageCache)
            var offset = 0
            while offset < size {  // an odd chunk size: blocks fill across chunk boundaries
                let end = min(size, offset + 65_521)
                try await writer.write(Data(bytes[offset..<end]))
                offset = end
            }
            try writer.finish()
            #expect(fsync(fd) == 0)
            close(fd)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes, "size \(size)")
            if pastPageCache, size < 1 << 20 { #expect(writer.isDirect == nil, "size \(size): no full block, no O_DIRECT") }
            if !pastPageCache { #expect(writer.isDirect == false) }
            if pastPageCache, size >= 1 << 20, Self.isExt4(directory.path) {
                #expect(writer.isDirect == true, "ext4 takes O_DIRECT")
            }
        }
    }

    @Test func aWriteErrorIsThrownNotLost() async throws {
        let fd = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(fd >= 0, "/dev/full: every write fails with ENOSPC")
        defer { close(fd) }
        let writer = DirectWriter(fd: fd)
        let block = Data(count: 1 << 20)
        await #expect(throws: POSIXFailure.self) {
            for _ in 0..<(writer.buffersInFlight + 2) { try await writer.write(block) }
            try writer.finish()
        }
    }

    /// Whether `path` is on ext2/3/4 (`stat -f`: the file system's magic number, in hex).
    /// The disk behind (the writing thread held): the upload waits for room without holding a
    /// thread, goes on once blocks are written, and nothing is lost or reordered.
    @Test(.timeLimit(.minutes(1)))
    func anUploadWaitsForTheDiskWithoutLosingBytes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("direct-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("r").path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        let writer = DirectWriter(fd: fd, buffersInFlight: 2)
        let bytes = Data((0..<((5 << 20) + 123)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 20) })
        writer.holdWrites()
        let upload = Task {
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + 100_000)
                try await writer.write(Data(bytes[offset..<end]))
                offset = end
            }
        }
        // Two blocks queued behind the held thread; the third must wait for room.
        for _ in 0..<500 where writer.waitsForRoom == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(writer.waitsForRoom == 1)
        writer.releaseWrites()
        try await upload.value
        try writer.finish()
        #expect(fsync(fd) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    static func isExt4(_ path: String) -> Bool {
        let stat = Process()
        stat.executableURL = URL(fileURLWithPath: "/usr/bin/stat")
        stat.arguments = ["-f", "-c", "%t", path]
        let output = Pipe()
        stat.standardOutput = output
        guard (try? stat.run()) != nil else { return false }
        let type = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        stat.waitUntilExit()
        return type.trimmingCharacters(in: .whitespacesAndNewlines) == "ef53"
    }
}
