import Foundation
import PluginAPI
import PluginTesting
import SupportHostSync
import Synchronization
import Testing

struct MutexTests {
    @Test func underContentionNoTwoHoldAndTheJournalShowsTheOrder() async throws {
        let guests = ["a", "b", "c", "d"]
        let tester = try syncTester(guests)
        defer { tester.context.removeRunDirectory() }
        let section = CriticalSection()
        await withTaskGroup(of: Void.self) { group in
            for guest in guests {
                group.addTask {
                    for _ in 0..<5 {
                        let locked = await tester.sync("/sync/mutex/disk/lock", from: guest)
                        guard locked.status == 200 else { Issue.record("\(guest): \(locked.status) \(locked.text)"); return }
                        section.enter()
                        try? await Task.sleep(for: .milliseconds(2))
                        section.leave()
                        let unlocked = await tester.sync("/sync/mutex/disk/unlock", from: guest)
                        #expect(unlocked.status == 200)
                    }
                }
            }
        }
        #expect(section.overlaps.load(ordering: .relaxed) == 0)
        #expect(section.entries.load(ordering: .relaxed) == 20)
        // granted and released alternate, each release by the guest last granted, all durable.
        let steps = tester.context.records.filter { $0.kind == "mutex-granted" || $0.kind == "mutex-released" }
        #expect(steps.count == 40)
        #expect(steps.allSatisfy { $0.durable })
        for (index, step) in steps.enumerated() {
            #expect(step.kind == (index % 2 == 0 ? "mutex-granted" : "mutex-released"))
            if index % 2 == 1 { #expect(step.fields["guest"] == steps[index - 1].fields["guest"]) }
        }
        #expect(tester.count("mutex-queued") > 0, "no contention: the test proved nothing")
        #expect(try tester.replayed().report()["sync"]?.objectValue?["mutex_grants"] == 20)
    }

    @Test func waitersAreServedFirstComeFirstServed() async throws {
        let tester = try syncTester(["a", "b", "c", "d"])
        defer { tester.context.removeRunDirectory() }
        #expect(await tester.sync("/sync/mutex/m/lock", from: "a").status == 200)
        var waiting: [Task<Reply, Never>] = []
        for (index, guest) in ["d", "b", "c"].enumerated() {
            waiting.append(Task { await tester.sync("/sync/mutex/m/lock", from: guest) })
            try await eventually("\(guest) queued") { tester.count("mutex-queued") == index + 1 }
        }
        for (holder, next) in [("a", 0), ("d", 1), ("b", 2)] {
            #expect(await tester.sync("/sync/mutex/m/unlock", from: holder).status == 200)
            #expect(await waiting[next].value.status == 200)
        }
        let grants = tester.context.records.filter { $0.kind == "mutex-granted" }.compactMap { $0.fields["guest"]?.stringValue }
        #expect(grants == ["a", "d", "b", "c"])
    }

    @Test func aDeadOwnersMutexGoesToTheNextWaiterWhoIsTold() async throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        #expect(await tester.sync("/sync/mutex/db/lock", from: "a").status == 200)
        async let next = tester.sync("/sync/mutex/db/lock", from: "b")
        try await eventually("b queued") { tester.count("mutex-queued") == 1 }
        tester.guestChanged("a", .exited(description: "crashed"))
        let reply = await next
        #expect(reply.status == 200)
        #expect(reply.header("X-Sync-Previous-Owner-Died") == "a")
        #expect(tester.kinds().suffix(3) == ["peer-gone", "mutex-owner-died", "mutex-granted"])
        let resumed = try tester.resumed()
        let again = await resumed.sync("/sync/mutex/db/lock", from: "b")
        #expect(again.header("X-Sync-Already-Held") == "true")
    }

    @Test func onlyTheHolderUnlocksAndAWaitTimesOut() async throws {
        let tester = try syncTester(["a", "b"])
        defer { tester.context.removeRunDirectory() }
        #expect(await tester.sync("/sync/mutex/m/unlock", from: "a").status == 409)
        #expect(await tester.sync("/sync/mutex/m/lock", from: "a").status == 200)
        let notYours = await tester.sync("/sync/mutex/m/unlock", from: "b")
        #expect(notYours.status == 409)
        #expect(notYours.text.contains("held by a"))
        let waited = await tester.sync("/sync/mutex/m/lock?timeout=0.2", from: "b")
        #expect(waited.status == 408)
        #expect(await tester.sync("/sync/mutex/m/unlock", from: "a").status == 200)
        #expect(await tester.sync("/sync/mutex/m/lock", from: "b").status == 200)
    }
}

/// Counts the holders of what a mutex guards: a second one inside is an overlap.
private final class CriticalSection: Sendable {
    let holders = Atomic(0)
    let overlaps = Atomic(0)
    let entries = Atomic(0)

    func enter() {
        entries.add(1, ordering: .relaxed)
        if holders.add(1, ordering: .sequentiallyConsistent).newValue != 1 { overlaps.add(1, ordering: .relaxed) }
    }

    func leave() { holders.subtract(1, ordering: .sequentiallyConsistent) }
}
