import Foundation
import PluginAPI
import PluginTesting
import SupportHostSync
import Testing

struct EventTests {
    @Test func anEventIsSetOnceAndReachesWaitersAndReaders() async throws {
        let tester = try syncTester(["server", "client"])
        defer { tester.context.removeRunDirectory() }
        #expect((try? tester.get("/sync/event/addr")) == nil)
        async let waited = tester.sync("/sync/event/addr/wait?timeout=60", from: "client")
        try await eventually("the client waits") { tester.context.activityCount(of: "client") > 0 }
        let body = Data(#"{"ip": "10.0.0.2", "port": 8080}"#.utf8)
        let set = await tester.sync("/sync/event/addr", from: "server", body: body)
        #expect(set.status == 200)
        let reply = await waited
        #expect(reply.status == 200)
        #expect(reply.text == #"{"ip":"10.0.0.2","port":8080}"# + "\n")
        #expect(reply.header("X-Sync-Sender") == "server")
        #expect(try tester.get("/sync/event/addr", guest: "client").text == reply.text)
        #expect(tester.context.records.first { $0.kind == "event-set" }?.durable == true)
        #expect(await tester.sync("/sync/event/addr", from: "server", body: body).status == 200)
        #expect(await tester.sync("/sync/event/addr", from: "client", body: Data("{}".utf8)).status == 409)
        // Rebuilt from the journal, byte for byte.
        #expect(try tester.resumed().get("/sync/event/addr").text == reply.text)
    }

    @Test func anEventBodyIsSmallJSON() async throws {
        let tester = try syncTester(["a", "b"], settings: ["max_event_bytes": "16"])
        defer { tester.context.removeRunDirectory() }
        #expect(await tester.sync("/sync/event/e", from: "a", body: Data("not json".utf8)).status == 400)
        #expect(await tester.sync("/sync/event/e", from: "a", body: Data(repeating: 0x20, count: 17)).status == 413)
        #expect(await tester.sync("/sync/event/e", from: "a").status == 200)  // empty: {}
    }

    @Test func aWaiterWithNoOneLeftToSetItIsToldAtOnce() async throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        async let waited = tester.sync("/sync/event/never/wait", from: "a")
        try await eventually("a waits") { tester.context.activityCount(of: "a") > 0 }
        tester.guestChanged("b", .exited(description: "exited with status 0"))
        let reply = await waited
        #expect(reply.status == 410)
        #expect(reply.header("X-Sync-Peer") == "b")
    }

    @Test func aGetWithWaitWaitsForTheEventWithoutBlockingTheHook() async throws {
        let tester = try syncTester(["server", "client"])
        defer { tester.context.removeRunDirectory() }
        let later = try tester.get("/sync/event/up?wait=60", guest: "client")
        #expect(later.deferred != nil, "the export hook returns at once; the wait is the host's to await")
        async let waited = tester.getAwaited("/sync/event/up?wait=60", guest: "client")
        try await eventually("the client waits") { tester.context.activityCount(of: "client") > 0 }
        #expect(await tester.sync("/sync/event/up", from: "server", body: Data(#"{"port":"8080"}"#.utf8)).status == 200)
        let reply = try await waited
        #expect(reply.status == 200)
        #expect(reply.text == #"{"port":"8080"}"# + "\n")
        #expect(reply.header("X-Sync-Sender") == "server")
        // Once set, a wait answers at once; so does the first `later`, awaited only now.
        #expect(try await tester.getAwaited("/sync/event/up?wait=5", guest: "client").text == reply.text)
        #expect(try await later.resolved().text == reply.text)
    }

    @Test func aGetWaitTimesOutOrHearsOfTheGoneSender() async throws {
        let tester = try syncTester(["a", "b", "c"])
        defer { tester.context.removeRunDirectory() }
        let timedOut = try await tester.getAwaited("/sync/event/never?wait=0.2", guest: "a")
        #expect(timedOut.status == 408)
        #expect(tester.count("event-timeout") == 1)
        async let fromB = tester.getAwaited("/sync/event/up.b?wait=60&from=b", guest: "a")
        try await eventually("a waits") { tester.context.activityCount(of: "a") > 0 }
        tester.guestChanged("b", .exited(description: "killed by SIGKILL"))
        let gone = try await fromB
        #expect(gone.status == 410)
        #expect(gone.header("X-Sync-Peer") == "b")
    }

    @Test func aGetWithoutWaitAnswersAtOnceAndABadWaitIsRefused() throws {
        let tester = try syncTester(["a"])
        defer { tester.context.removeRunDirectory() }
        for path in ["/sync/event/x", "/sync/event/x?wait=0"] {
            let error = #expect(throws: GuestError.self) { try tester.get(path) }
            #expect(error?.status == 404, "\(path)")
        }
        for path in ["/sync/event/x?wait=soon", "/sync/event/x?wait=-1", "/sync/event/x?from=a", "/sync/event/x?wait=5&timeout=5"] {
            let error = #expect(throws: GuestError.self) { try tester.get(path) }
            #expect(error?.status == 400, "\(path)")
        }
    }
}

struct EventFromTests {
    @Test func aWaitForOneGuestsEventEndsWhenThatGuestDies() async throws {
        let tester = try syncTester(["a", "b", "c"])
        defer { tester.context.removeRunDirectory() }
        #expect(await tester.sync("/sync/event/up.b/wait?from=zed", from: "a").status == 400)
        async let waited = tester.sync("/sync/event/up.b/wait?from=b", from: "a")
        try await eventually("a waits") { tester.context.activityCount(of: "a") > 0 }
        tester.guestChanged("c", .exited(description: "exited with status 0"))  // not the one it waits for
        try await eventually("c is gone") { tester.count("peer-gone") == 1 }
        tester.guestChanged("b", .exited(description: "killed by SIGKILL"))
        let reply = await waited
        #expect(reply.status == 410)
        #expect(reply.header("X-Sync-Peer") == "b")
        #expect(reply.text.contains("killed by SIGKILL"))
        #expect(await tester.sync("/sync/event/up.b/wait?from=b", from: "a").status == 410)
    }

    @Test func whoamiNamesTheAskingGuest() throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        #expect(try tester.get("/sync/whoami", guest: "b").text == "b\n")
    }
}
