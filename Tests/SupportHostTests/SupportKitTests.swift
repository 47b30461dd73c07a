import Foundation
import SupportKit
import Testing

/// The one helper each for hex, writing every byte, durable replacement and file digests.
struct SupportKitTests {
    @Test func hexRoundTrips() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xab, 0xff]
        #expect(hexEncoded(bytes) == "00017f80abff")
        #expect(Hex.decode("00017f80abff") == bytes)
        #expect(Hex.decode("00017F80ABFF") == bytes)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.decode("\u{10}0") == nil)
    }

    @Test func eightDigitsBothWays() {
        var out: [UInt8] = []
        Hex.append8(0x00c0_ffee, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "00c0ffee")
        #expect(out.withUnsafeBufferPointer { Hex.parse8($0, at: 0) } == 0x00c0_ffee)
        let bad = Array("00c0ffeG".utf8)
        #expect(bad.withUnsafeBufferPointer { Hex.parse8($0, at: 0) } == nil)
    }

    @Test func durableReplacementLeavesOnlyTheNewFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("supportkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("result")
        try Data("old".utf8).write(to: file)
        try FileIO.replaceDurably(file, with: Data("new bytes".utf8))
        #expect(try Data(contentsOf: file) == Data("new bytes".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["result"])
    }

    @Test func writeAllAtAnOffsetAndDigest() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("supportkit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_RDWR | O_CREAT | O_EXCL, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        try FileIO.writeAll(fd, Data("c".utf8), at: 2)
        try FileIO.writeAll(fd, Data("ab".utf8), at: 0)
        #expect(try Data(contentsOf: url) == Data("abc".utf8))
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(FileDigest.sha256(of: url) == expected)
        #expect(try FileDigest.sha256(fd: fd) == expected)
        #expect(FileDigest.sha256(of: url.appendingPathExtension("missing")) == nil)
    }
}
