import Foundation
import PluginAPI
import PluginTesting
import SupportHostCPANMirror
import Testing

/// The CPANMirror plug-in through PluginTesting: a mirror directory of its own, no server.
struct CPANMirrorPluginTests {
    /// A tester whose mirror `/cpan` serves a fresh directory holding `modules/02packages.txt`.
    static func tester() throws -> (PluginTester<CPANMirrorPlugin>, URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mirror-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("modules"), withIntermediateDirectories: true)
        try Data("packages\n".utf8).write(to: root.appendingPathComponent("modules/02packages.txt"))
        let configuration = RunConfiguration(mirrors: [MirrorMount(prefix: "/cpan", directory: root.path)])
        return (try PluginTester(CPANMirrorPlugin.self, configuration: configuration), root)
    }

    @Test func aFileInTheMirrorIsServed() throws {
        let (tester, root) = try Self.tester()
        defer { tester.context.removeRunDirectory(); try? FileManager.default.removeItem(at: root) }
        let reply = try tester.get("/cpan/modules/02packages.txt")
        #expect(reply.status == 200)
        switch reply.body {
        case .file(let slice): #expect(slice.length == 9)
        case .bytes(let bytes): #expect(bytes == Data("packages\n".utf8))
        case .empty: Issue.record("no body")
        }
    }

    @Test func aPathLeadingOutsideIsRefused() throws {
        let (tester, root) = try Self.tester()
        defer { tester.context.removeRunDirectory(); try? FileManager.default.removeItem(at: root) }
        let error = #expect(throws: GuestError.self) { try tester.get("/cpan/../etc/passwd") }
        #expect(error.map { [400, 403, 404].contains($0.status) } == true)
    }

    @Test func aMissingFileIs404() throws {
        let (tester, root) = try Self.tester()
        defer { tester.context.removeRunDirectory(); try? FileManager.default.removeItem(at: root) }
        let error = #expect(throws: GuestError.self) { try tester.get("/cpan/modules/missing.txt") }
        #expect(error?.status == 404)
    }

    @Test func noMirrorNoNamespace() throws {
        let tester = try PluginTester(CPANMirrorPlugin.self)
        defer { tester.context.removeRunDirectory() }
        #expect(tester.plugin.namespaces.isEmpty)
    }
}
