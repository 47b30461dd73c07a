import Foundation
import PluginAPI
import PluginTesting
import SupportHostSync
import Testing

struct BarrierTests {
    @Test func threeGuestsPassTogetherWithin50msOfTheLastArrival() async throws {
        let tester = try syncTester(["a", "b", "c"])
        defer { tester.context.removeRunDirectory() }
        let clock = ContinuousClock()
        // The best of up to 10 rounds: with the whole test suite running on 2 cores the task pool
        // can stall for seconds (seen: 7 s), and any one round with it. A release that did not
        // happen in the last arrival's own step would miss the bound in every round.
        var best = Duration.seconds(3600)
        for round in 0..<10 where best >= .milliseconds(50) {
            let name = "setup-\(round)"
            let early = ["a", "b"].map { guest in
                Task { (await tester.sync("/sync/barrier/\(name)", from: guest), clock.now) }
            }
            try await eventually("a and b arrived") { tester.barrier(name)?["waiting"] == 2 }
            let lastArrival = clock.now
            let last = await tester.sync("/sync/barrier/\(name)", from: "c")
            #expect(last.status == 200)
            var slowest = Duration.zero
            for task in early {
                let (reply, passed) = await task.value
                #expect(reply.status == 200)
                #expect(reply.header("X-Sync-Parties") == "a,b,c")
                slowest = max(slowest, passed - lastArrival)
            }
            best = min(best, slowest)
        }
        #expect(best < .milliseconds(50), "the best round passed \(best) after the last arrival")
        // Released in the last arrival's own step, durably, before anyone was answered.
        #expect(Array(tester.kinds().prefix(4)) == ["barrier-arrived", "barrier-arrived", "barrier-arrived", "barrier-released"])
        let release = try #require(tester.context.records.first { $0.kind == "barrier-released" })
        #expect(release.durable)
        #expect(release.fields["parties"] == ["a", "b", "c"])
        #expect(try tester.replayed().report()["sync"]?.objectValue?["barriers_released"] != nil)
    }

    @Test func aPeerKilledWhileTwoWaitFailsBothWith410NamingIt() async throws {
        let tester = try syncTester(["a", "b", "c"])
        defer { tester.context.removeRunDirectory() }
        let waiting = ["a", "b"].map { guest in Task { await tester.sync("/sync/barrier/ready?timeout=600", from: guest) } }
        try await eventually("a and b arrived") { tester.count("barrier-arrived") == 2 }
        tester.guestChanged("c", .exited(description: "killed by SIGKILL"))
        for task in waiting {
            let reply = await task.value
            #expect(reply.status == 410)
            #expect(reply.header("X-Sync-Peer") == "c")
            #expect(reply.text.contains("guest c is gone (killed by SIGKILL)"))
        }
        #expect(tester.kinds().suffix(2) == ["peer-gone", "barrier-failed"])
        // The barrier stays failed: a late arrival hears the same, at once.
        let late = await tester.sync("/sync/barrier/ready", from: "a")
        #expect(late.status == 410)
        #expect(late.header("X-Sync-Peer") == "c")
        // A host taking the run over knows it too.
        let resumed = try tester.resumed()
        #expect(await resumed.sync("/sync/barrier/ready", from: "b").status == 410)
    }

    @Test func aBarrierOfAGoneGuestFailsAtOnce() async throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        tester.guestChanged("b", .exited(description: "exited with status 3"))
        try await eventually("b is gone") { tester.count("peer-gone") == 1 }
        let reply = await tester.sync("/sync/barrier/x", from: "a")
        #expect(reply.status == 410)
        #expect(reply.text.contains("exited with status 3"))
        // A count the living can still make is no problem.
        #expect(await tester.sync("/sync/barrier/y?count=1", from: "a").status == 200)
    }

    @Test func aWaitTimesOutWith408AndTheRunGoesOn() async throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        let reply = await tester.sync("/sync/barrier/slow?timeout=0.2", from: "a")
        #expect(reply.status == 408)
        #expect(reply.text.contains("barrier slow: timed out after 0.2 s"))
        let timeout = try #require(tester.context.records.last)
        #expect(timeout.kind == "barrier-timeout")
        #expect(timeout.durable)
        #expect(timeout.fields["withdrawn"] == true)
        #expect(tester.context.runEnd == nil)
        // a's arrival was withdrawn: b alone does not pass; both again do.
        #expect(await tester.sync("/sync/barrier/slow?timeout=0", from: "b").status == 408)
        async let first = tester.sync("/sync/barrier/slow", from: "a")
        try await eventually("a arrived again") { tester.count("barrier-arrived") == 3 }
        #expect(await tester.sync("/sync/barrier/slow", from: "b").status == 200)
        #expect(await first.status == 200)
        let report = try tester.replayed().report()["sync"]?.objectValue
        #expect(report?["timeouts"] == 2)
        #expect(report?["barriers_released"] == 1)
    }

    @Test func waitingCountsAsTheGuestsActivity() async throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        _ = await tester.sync("/sync/barrier/long?timeout=2.5", from: "a")
        // One for the request, then one a second while it waited (at least one however slow
        // the machine: the first tick comes before the deadline is looked at).
        #expect(tester.context.activityCount(of: "a") >= 2)
        #expect(tester.context.activityCount(of: "b") == 0)
    }

    @Test func aResumedHostAnswersRetriesAndReleasesEveryoneAtTheLastArrival() async throws {
        let tester = try syncTester(["a", "b", "c"])
        defer { tester.context.removeRunDirectory() }
        // The old host: a and b arrive, then it is killed (their waits are never answered).
        let lost = ["a", "b"].map { guest in
            Task { await tester.sync("/sync/barrier/mid?timeout=1", from: guest, requestID: "\(guest)-1") }
        }
        try await eventually("a and b arrived") { tester.count("barrier-arrived") == 2 }
        let resumed = try tester.resumed()
        // a's retry, same X-Request-Id: the same arrival, not a new one; it waits again.
        async let retry = resumed.sync("/sync/barrier/mid", from: "a", requestID: "a-1")
        try await eventually("a waits again") { resumed.barrier("mid")?["waiting"] == 1 }
        #expect(resumed.barrier("mid")?["arrived"] == ["a", "b"])
        #expect(resumed.count("barrier-arrived") == 2)
        // c is the last party: b's arrival, known from the journal alone, counts.
        let last = await resumed.sync("/sync/barrier/mid", from: "c", requestID: "c-1")
        #expect(last.status == 200)
        #expect(last.header("X-Sync-Parties") == "a,b,c")
        #expect(await retry.status == 200)
        // b comes back after the release: it was a party, so it passes.
        let late = await resumed.sync("/sync/barrier/mid", from: "b", requestID: "b-1")
        #expect(late.status == 200)
        #expect(late.text.contains("released earlier"))
        #expect(resumed.count("barrier-released") == 1)
        for task in lost { _ = await task.value }  // the old plug-in's own timeouts, heard by no one
    }

    @Test func aReleasedNameIsNotANewRound() async throws {
        let tester = try syncTester(["a", "b", "c"])
        defer { tester.context.removeRunDirectory() }
        async let first = tester.sync("/sync/barrier/pair?count=2", from: "a")
        try await eventually("a arrived") { tester.count("barrier-arrived") == 1 }
        #expect(await tester.sync("/sync/barrier/pair?count=2", from: "b").status == 200)
        #expect(await first.status == 200)
        let third = await tester.sync("/sync/barrier/pair?count=2", from: "c")
        #expect(third.status == 409)
        #expect(third.text.contains("use a new name"))
    }

    @Test func aRoleBarrierWaitsForThatRoleOnly() async throws {
        let tester = try syncTester(["s1", "s2", "c1"], roles: ["s1": "server", "s2": "server", "c1": "client"])
        defer { tester.context.removeRunDirectory() }
        #expect(await tester.sync("/sync/barrier/servers-up?role=server", from: "c1").status == 403)
        async let first = tester.sync("/sync/barrier/servers-up?role=server", from: "s1")
        try await eventually("s1 arrived") { tester.count("barrier-arrived") == 1 }
        #expect(await tester.sync("/sync/barrier/servers-up?count=2", from: "s2").status == 409)
        #expect(await tester.sync("/sync/barrier/servers-up", from: "s2").status == 200)
        #expect(await first.status == 200)
    }

    @Test func aRunOfOneGuestPassesAtOnce() async throws {
        let tester = try PluginTester(SyncPlugin.self)
        defer { tester.context.removeRunDirectory() }
        let reply = await tester.sync("/sync/barrier/alone", from: GuestDescription.defaultName)
        #expect(reply.status == 200)
        #expect(reply.text == "barrier alone: passed, 1 guests: guest\n")
    }
}
