import Foundation
import PluginAPI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `support-host matrix`: plans of small dists on `--guest local` and launcher guests, run by
/// the real binary, each cell an ordinary run directory.
@Suite(.enabled(if: Needs.curl && Needs.perlAndMake, Needs.perlAndMakeHint))
struct MatrixTests {
    /// 3 dists × 2 guests; flavour.t fails on the flavour-b guest only.
    static func threeByTwo(_ fixture: MatrixFixture, output: URL? = nil) throws -> String {
        let dists = [try TinyDist.tarball(), try fixture.passing("pass.t"), try fixture.failingOnFlavourB("flavour.t")]
        return try fixture.plan(dists: dists, guests: ["local", fixture.launcher("flavour-b", flavour: "b")], output: output)
    }

    static let expectedGrades = [
        "Hello-Tiny-0.01.tar.gz on local": "PASS", "Hello-Tiny-0.01.tar.gz on flavour-b": "PASS",
        "pass.t on local": "PASS", "pass.t on flavour-b": "PASS",
        "flavour.t on local": "PASS", "flavour.t on flavour-b": "FAIL",
    ]

    @Test func aThreeByTwoPlanGivesTheExpectedGrid() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let host = try await HostProcess.run(["matrix", try Self.threeByTwo(fixture), "--jobs", "2"], timeout: 300)
        #expect(host.status == 1, "one cell fails: \(host.stdout)\n\(host.stderr)")
        let files = MatrixFiles(url: fixture.output)
        #expect(try files.grades == Self.expectedGrades, "\(files.table)")
        #expect(host.stdout.contains("""
            DIST                    local    flavour-b
            Hello-Tiny-0.01.tar.gz  PASS     PASS
            pass.t                  PASS     PASS
            flavour.t               PASS     FAIL

            6 cells: 5 PASS, 1 FAIL
            """), "\(host.stdout)")
        // Each cell is an ordinary run: its own directory, journal, report, port and token.
        var ports: Set<String> = []
        for cell in try files.grid["cells"]?.arrayValue ?? [] {
            let runDir = fixture.output.appendingPathComponent(cell["run_dir"]?.stringValue ?? "")
            let report = try RunFiles(url: runDir).report
            #expect(report["outcome"] == "completed")
            #expect(cell["outcome"] == "completed")
            #expect((cell["duration_seconds"]?.doubleValue ?? 0) > 0)
            #expect(RunFiles(url: runDir).journalText.contains("run-prepared"))
            if let url = report["listen"]?.stringValue { ports.insert(url) }
        }
        #expect(ports.count == 6, "six runs, six ports")
        #expect(FileManager.default.fileExists(atPath: fixture.output.appendingPathComponent("cells/flavour.t/flavour-b/results").path))
    }

    @Test func theReportRebuildsTheGridFromTheRunDirectoriesAlone() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let plan = try fixture.plan(dists: [try fixture.passing("pass.t"), try fixture.failingOnFlavourB("flavour.t")], guests: ["local", fixture.launcher("flavour-b", flavour: "b")])
        let first = try await HostProcess.run(["matrix", plan], timeout: 300)
        #expect(first.status == 1, "\(first.stderr)")
        let files = MatrixFiles(url: fixture.output)
        let grid = try files.grid
        try FileManager.default.removeItem(at: fixture.output.appendingPathComponent("matrix.json"))
        try FileManager.default.removeItem(at: fixture.output.appendingPathComponent("matrix.txt"))
        let report = try await HostProcess.run(["matrix", "report", fixture.output.path])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(try files.grid == grid)
        #expect(report.stdout == files.table)
        #expect(report.stdout.contains("flavour.t  PASS     FAIL"), "\(report.stdout)")
    }

    @Test func jobsOneAndJobsFourGiveTheSameGrid() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let one = fixture.directory.appendingPathComponent("one")
        let four = fixture.directory.appendingPathComponent("four")
        let serial = try await HostProcess.run(["matrix", try Self.threeByTwo(fixture, output: one), "--jobs", "1"], timeout: 300)
        let parallel = try await HostProcess.run(["matrix", try Self.threeByTwo(fixture, output: four), "--jobs", "4"], timeout: 300)
        #expect(serial.status == 1 && parallel.status == 1, "\(serial.stderr)\n\(parallel.stderr)")
        #expect(try MatrixFiles(url: one).grades == Self.expectedGrades)
        #expect(try MatrixFiles(url: four).grades == MatrixFiles(url: one).grades)
        #expect(MatrixFiles(url: four).table == MatrixFiles(url: one).table)
    }

    @Test func aRerunSkipsFinishedCellsAndRetryFailedRerunsTheFailedOne() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let plan = try fixture.plan(dists: [try fixture.passing("pass.t"), try fixture.failingOnFlavourB("flavour.t")], guests: ["local", fixture.launcher("flavour-b", flavour: "b")])
        _ = try await HostProcess.run(["matrix", plan], timeout: 300)
        let files = MatrixFiles(url: fixture.output)
        let before = ["pass.t/local", "pass.t/flavour-b", "flavour.t/local", "flavour.t/flavour-b"].map { files.report($0) }
        let again = try await HostProcess.run(["matrix", plan], timeout: 300)
        #expect(again.status == 1)
        #expect(["pass.t/local", "pass.t/flavour-b", "flavour.t/local", "flavour.t/flavour-b"].map { files.report($0) } == before, "nothing ran again")
        let retry = try await HostProcess.run(["matrix", plan, "--retry-failed"], timeout: 300)
        #expect(retry.status == 1)
        #expect(files.report("pass.t/local") == before[0])
        #expect(files.report("flavour.t/flavour-b") != before[3], "the FAIL cell ran again")
        #expect(Fixtures.files(in: fixture.output.appendingPathComponent("attempts/cells/flavour.t/flavour-b")) == ["1"])
        #expect(try files.grid["cells"]?.arrayValue?.first { $0["guest"] == "flavour-b" && $0["dist"] == "flavour.t" }?["attempts"] == 1)
    }

    @Test func aBadPlanExitsSixtyFourNamingEveryProblem() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let plan = fixture.directory.appendingPathComponent("bad.json")
        try Data("""
            {"dists": ["no-such-dist.tar.gz", 3], "guests": ["local", "vax", {"name": "x"}],
             "settings": {"startup_timeout": -1, "run_dir": "x", "bogus": 1}, "outputs": "o", "output": "\(fixture.output.path)", "jobs": 0}
            """.utf8).write(to: plan)
        let host = try await HostProcess.run(["matrix", plan.path])
        #expect(host.status == 64)
        for problem in [
            "unknown plan key 'outputs'", "dists[1]: must be", "dist no-such-dist.tar.gz: no-such-dist.tar.gz is neither a file nor found",
            "unknown guest 'vax'", "guest 'x': 'command' must be", "settings.startup_timeout:", "settings.run_dir: set by the matrix",
            "settings.bogus: unknown job key 'bogus'", "'jobs' must be a positive integer", "bad plan (9 problems)",
        ] {
            #expect(host.stderr.contains(problem), "\(problem) in \(host.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.output.path), "nothing started")
    }

    @Test func aKilledMatrixResumesWithoutRerunningFinishedCellsOrLeavingGuests() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let dists = try (1...4).map { try fixture.passing("slow\($0).t", sleep: 1.5) }
        let plan = try fixture.plan(dists: dists, guests: [fixture.launcher("a", flavour: "a"), fixture.launcher("b", flavour: "b")])
        let cells = dists.flatMap { dist in ["a", "b"].map { "\((dist as NSString).lastPathComponent)/\($0)" } }
        let files = MatrixFiles(url: fixture.output)
        @Sendable func finished() -> [String] {
            cells.filter { cell in
                files.report(cell).flatMap { try? JSONValue.decode($0) }?["outcome"] == "completed"
            }
        }

        let matrix = try HostProcess(["matrix", plan, "--jobs", "2"])
        let pid = matrix.pid
        let fired = await MatrixFixture.act(timeout: 120, when: { finished().count >= 2 && !fixture.liveGuests.isEmpty }) { kill(pid, SIGKILL) }
        #expect(fired, "the matrix was killed while a guest ran")
        _ = await matrix.wait()
        // The cells notice their matrix is gone and stop their guests.
        #expect(await Fixtures.eventually(timeout: 60) { fixture.liveGuests.isEmpty }, "no orphaned guest")
        #expect(await Fixtures.eventually(timeout: 60) { fixture.cellsRunning(cells: 8) == 0 }, "no cell left")
        let done = finished()
        let reports = done.map { files.report($0) }
        #expect(done.count < cells.count, "killed mid-way")

        let rerun = try await HostProcess.run(["matrix", plan, "--jobs", "2"], timeout: 300)
        #expect(rerun.status == 0, "\(rerun.stdout)\n\(rerun.stderr)")
        #expect(try files.grades.values.allSatisfy { $0 == "PASS" } && files.grades.count == 8, "\(files.table)")
        #expect(done.map { files.report($0) } == reports, "no finished cell ran twice")
        // The cells running at the kill were stopped and set aside, then run again.
        let attempts = cells.filter { !done.contains($0) }.flatMap { cell in
            Fixtures.files(in: fixture.output.appendingPathComponent("attempts/cells/" + cell)).map { "\(cell)/\($0)" }
        }
        #expect(!attempts.isEmpty)
        for attempt in attempts {
            let report = try? RunFiles(url: fixture.output.appendingPathComponent("attempts/cells/" + attempt)).report
            #expect(report?["outcome"] == "interrupted", "\(attempt): stopped by its stop sequence")
        }
        for cell in done {
            #expect(!FileManager.default.fileExists(atPath: fixture.output.appendingPathComponent("attempts/cells/" + cell).path))
        }
        #expect(fixture.liveGuests.isEmpty)
    }

    @Test func ctrlCStopsEveryRunningCellAndTheMatrixResumes() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let dists = try (1...3).map { try fixture.passing("slow\($0).t", sleep: 4) }
        let plan = try fixture.plan(dists: dists, guests: [fixture.launcher("a", flavour: "a")])
        let cells = dists.map { "\(($0 as NSString).lastPathComponent)/a" }
        let files = MatrixFiles(url: fixture.output)
        let matrix = try HostProcess(["matrix", plan, "--jobs", "2"])
        let pid = matrix.pid
        #expect(await MatrixFixture.act(timeout: 120, when: { !fixture.liveGuests.isEmpty }) { kill(pid, SIGINT) })
        let status = await matrix.wait()
        #expect(status == 130, "\(matrix.stderr)")
        #expect(matrix.stderr.contains("interrupted: run the same command again to resume"), "\(matrix.stderr)")
        #expect(fixture.liveGuests.isEmpty, "every guest stopped before the matrix exits")
        #expect(fixture.cellsRunning(cells: 3) == 0)
        // Each cell running at Ctrl-C ran its stop sequence and was set aside; none counts as run.
        let attempts = cells.flatMap { cell in
            Fixtures.files(in: fixture.output.appendingPathComponent("attempts/cells/" + cell)).map { "\(cell)/\($0)" }
        }
        #expect(!attempts.isEmpty)
        for attempt in attempts {
            #expect(try RunFiles(url: fixture.output.appendingPathComponent("attempts/cells/" + attempt)).report["outcome"] == "interrupted")
        }
        let grades = try files.grades
        #expect(grades.values.filter { $0 == "-" }.count >= attempts.count, "\(files.table)")
        #expect(grades.values.allSatisfy { $0 == "-" || $0 == "PASS" }, "\(files.table)")
        let finished = cells.filter { files.report($0) != nil }
        let reports = finished.map { files.report($0) }

        let rerun = try await HostProcess.run(["matrix", plan, "--jobs", "2"], timeout: 300)
        #expect(rerun.status == 0, "\(rerun.stdout)\n\(rerun.stderr)")
        #expect(try files.grades.values.sorted() == ["PASS", "PASS", "PASS"])
        #expect(finished.map { files.report($0) } == reports, "cells finished before Ctrl-C did not run again")
    }

    @Test func aCellKilledOutrightLeavesNoGuestAndRunsAgainNextTime() async throws {
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        // The first guest outlives the rest of the matrix unless someone ends it.
        let dists = [try fixture.passing("slow1.t", sleep: 60), try fixture.passing("slow2.t")]
        let plan = try fixture.plan(dists: dists, guests: [fixture.launcher("a", flavour: "a")])
        let matrix = try HostProcess(["matrix", plan, "--jobs", "1"])
        let pid = matrix.pid
        // SIGKILL to the first cell's process while its guest runs: the guest is orphaned.
        let killed = await MatrixFixture.act(timeout: 120, when: { !fixture.liveGuests.isEmpty }) {
            // Each thread lists the children it started.
            for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
                let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
                for child in children.split(separator: " ").compactMap({ pid_t($0) }) { kill(child, SIGKILL) }
            }
        }
        #expect(killed)
        let status = await matrix.wait(timeout: 300)
        #expect(status == 1, "a cell did not run: \(matrix.stdout)\n\(matrix.stderr)")
        #expect(fixture.liveGuests.isEmpty, "the matrix (their subreaper) ended the orphaned guest")
        let files = MatrixFiles(url: fixture.output)
        #expect(try files.grades == ["slow1.t on a": "-", "slow2.t on a": "PASS"], "\(files.table)")

        _ = try fixture.passing("slow1.t")  // quick this time
        let rerun = try await HostProcess.run(["matrix", plan], timeout: 300)
        #expect(rerun.status == 0, "\(rerun.stdout)\n\(rerun.stderr)")
        #expect(try files.grades.values.sorted() == ["PASS", "PASS"])
        #expect(Fixtures.files(in: fixture.output.appendingPathComponent("attempts/cells/slow1.t/a")) == ["1"], "the unfinished run was set aside")
    }
}
