import Foundation
import PluginAPI
import PluginTesting
import SupportHostSync
import Testing

struct SyncLimitTests {
    @Test(arguments: [
        ("/sync/barrier/bad%20name", 400), ("/sync/barrier/.hidden", 400), ("/sync/barrier/" + String(repeating: "x", count: 65), 400),
        ("/sync/barrier/x?count=3", 400), ("/sync/barrier/x?count=0", 400), ("/sync/barrier/x?role=db", 400),
        ("/sync/barrier/x?count=1&role=db", 400), ("/sync/barrier/x?colour=red", 400), ("/sync/barrier/x?timeout=-1", 400),
        ("/sync/barrier/x?timeout=1&timeout=2", 400), ("/sync/mutex/x", 404), ("/sync/mutex/x/steal", 404),
        ("/sync/nothing", 404), ("/sync/status", 405), ("/sync/mutex/x/unlock?timeout=1", 400),
    ])
    func badRequestsAreRefusedClearly(path: String, status: Int) async throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        let reply = await tester.sync(path, from: "a")
        #expect(reply.status == status, "\(path): \(reply.text)")
        #expect(tester.context.records.isEmpty)
    }

    @Test func aStrangerIsRefused() async throws {
        let tester = try syncTester(["a"])
        defer { tester.context.removeRunDirectory() }
        #expect(await tester.sync("/sync/barrier/x", from: "mallory").status == 403)
    }

    @Test func namesAndWaitsAreCounted() async throws {
        let tester = try syncTester(["a", "b"], settings: ["max_names": "2", "max_waits_per_guest": "1"])
        defer { tester.context.removeRunDirectory() }
        async let first = tester.sync("/sync/barrier/one?timeout=5", from: "a")
        try await eventually("a waits") { tester.count("barrier-arrived") == 1 }
        let second = await tester.sync("/sync/mutex/m/lock", from: "a")  // free: no wait
        #expect(second.status == 200)
        #expect(await tester.sync("/sync/event/e/wait", from: "a").status == 429)  // a second wait
        #expect(await tester.sync("/sync/barrier/two?count=1", from: "b").status == 200)
        let third = await tester.sync("/sync/barrier/three?count=1", from: "b")
        #expect(third.status == 429)
        #expect(third.text.contains("max_names"))
        #expect(await tester.sync("/sync/barrier/one", from: "b").status == 200)
        #expect(await first.status == 200)
    }

    @Test func settingsAreCheckedBeforeTheRun() {
        #expect(throws: PluginError.badSetting(key: "timeout", value: "100.0", reason: "must not exceed max_timeout (10.0)")) {
            _ = try syncTester(["a"], settings: ["timeout": "100", "max_timeout": "10"])
        }
        #expect(throws: PluginError.unknownSetting(key: "timout")) { _ = try syncTester(["a"], settings: ["timout": "1"]) }
        #expect(throws: PluginError.badSetting(key: "max_timeout", value: "-1.0", reason: "must be 0 to 86400 seconds")) {
            _ = try syncTester(["a"], settings: ["max_timeout": "-1"])
        }
    }

    @Test func aTimeoutIsCappedByMaxTimeout() async throws {
        let tester = try syncTester(["a", "b"], settings: ["max_timeout": "0.2"])
        defer { tester.context.removeRunDirectory() }
        let reply = await tester.sync("/sync/barrier/x?timeout=3600", from: "a")
        #expect(reply.status == 408)
        #expect(reply.text.contains("after 0.2 s"))
    }
}

struct SingleGuestTests {
    @Test func aRunOfOneGuestThatNeverSyncsRecordsNothing() async throws {
        let tester = try PluginTester(SyncPlugin.self)
        defer { tester.context.removeRunDirectory() }
        tester.guestChanged(GuestDescription.defaultName, .started)
        tester.guestChanged(GuestDescription.defaultName, .exited(description: "exited with status 0"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(tester.context.records.isEmpty)
        #expect(try tester.replayed().report().isEmpty)
    }
}
