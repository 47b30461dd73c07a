import Foundation
import PluginAPI
import Synchronization
import Testing

@testable import SupportHost

/// What the run's owner does with what a plug-in tells it: its own records of results and boot
/// ids (which a host taking the run over reads), a plug-in's end of the run through the stop
/// sequence, activity, and the phases it announces to every plug-in. No guest is launched: the
/// owner is given its inputs directly.
struct RunOwnerPluginTests {
    /// An owner of a run that requires `/r.txt`, its journal, and the phases it announced.
    final class Harness: Sendable {
        let directory = Fixtures.temporaryDirectory("owner")
        let journal: Journal
        let activity: Activity
        let phases = Mutex<[RunPhase]>([])

        init() throws {
            journal = try Journal(url: directory.appendingPathComponent("journal.log"), clock: RunClock())
            activity = Activity(clock: RunClock())
        }

        func owner() throws -> RunOwner {
            var settings = JobSettings()
            settings.command = ["/bin/true"]
            settings.results = ["/r.txt"]
            let job = try Job(settings)
            var owner = try RunOwner(
                job: job, journal: journal, activity: activity, clock: RunClock(), options: RunOptions(),
                console: ConsoleWatch(url: directory.appendingPathComponent("console.log"), failOn: [], rebootPattern: nil),
                redact: { $0 })
            owner.announce = { phase in self.phases.withLock { $0.append(phase) } }
            return owner
        }

        func records() async throws -> [JournalEntry] {
            try await journal.close()
            return JournalFormat.read(try Data(contentsOf: directory.appendingPathComponent("journal.log"))).entries
        }
    }

    @Test func aPluginFailingTheRunStopsItWithItsOwnOutcome() async throws {
        let harness = try Harness()
        var owner = try harness.owner()
        owner.handle(.plugin(.endRun(failed: true, reason: "the barrier broke"), from: "Sync"))
        owner.handle(.exited(.exited(0)))
        #expect(owner.outcome == .pluginFailed)
        #expect(owner.line.contains("plug-in Sync: the barrier broke"))
        #expect(Outcome.pluginFailed.exitCode == 26)
        #expect(harness.phases.withLock { $0 } == [.stopping(cause: "plugin-failed"), .guestExited])
        let stop = try #require(try await harness.records().first { $0.kind == "stop-requested" })
        #expect(stop.fields["plugin"] == "Sync")
        #expect(stop.fields["cause"] == "plugin-failed")
    }

    @Test func aPluginFinishingTheRunCompletesItOnlyWithEveryResultIn() throws {
        let harness = try Harness()
        var missing = try harness.owner()
        missing.handle(.plugin(.endRun(failed: false, reason: "done"), from: "Sync"))
        missing.handle(.exited(.exited(0)))
        #expect(missing.outcome == .resultsMissing)

        var complete = try harness.owner()
        complete.handle(.plugin(.resultStored(path: "/r.txt"), from: "Test"))
        complete.handle(.plugin(.endRun(failed: false, reason: "done"), from: "Sync"))
        complete.handle(.exited(.exited(0)))
        #expect(complete.outcome == .completed)
        #expect(complete.line.contains("plug-in Sync: done"))
    }

    @Test func theHostRecordsResultsAndBootIdsItself() async throws {
        let harness = try Harness()
        var owner = try harness.owner()
        owner.handle(.plugin(.guestPinged(bootID: "boot-1"), from: "Ping"))
        owner.handle(.plugin(.resultStored(path: "/r.txt"), from: "Test"))
        #expect(harness.phases.withLock { $0 } == [.guestStarted, .finishing])
        let host = try await harness.records().filter { $0.source == "host" }
        #expect(host.map(\.kind) == ["boot-id", "guest-started", "result-accepted", "finishing"])
        #expect(host.first { $0.kind == "result-accepted" }?.fields == ["path": "/r.txt", "plugin": "Test"])
    }

    @Test func aRunTakenOverKnowsResultsFromTheHostsRecords() throws {
        let harness = try Harness()
        var owner = try harness.owner()
        let accepted = JournalEntry(seq: 1, time: 1, wall: "", source: "host", kind: "result-accepted", fields: ["path": "/r.txt"])
        owner.restore(from: [accepted], pid: 0)
        owner.handle(.exited(.exited(0)))
        #expect(owner.outcome == .completed)
    }

    @Test func aPluginsActivityMovesTheActivityClock() async throws {
        let harness = try Harness()
        var owner = try harness.owner()
        let before = harness.activity.lastActivity
        try await Task.sleep(for: .milliseconds(20))
        owner.handle(.plugin(.activity, from: "Sync"))
        #expect(harness.activity.lastActivity > before)
    }
}
