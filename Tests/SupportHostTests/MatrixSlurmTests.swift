import Foundation
import PluginAPI
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `support-host matrix --executor slurm` on a real single-node Slurm cluster started for each
/// test by scripts/slurm-cluster.
@Suite(.serialized, .enabled(if: SlurmCluster.available && Needs.curl, SlurmCluster.hint))
struct MatrixSlurmTests {
    @Test func aTwoByTwoPlanThroughSlurmGivesTheLocalExecutorsGrid() async throws {
        let cluster = try await SlurmCluster.start()
        defer { cluster.stop() }
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let dists = [try fixture.passing("pass.t"), try fixture.failingOnFlavourB("flavour.t")]
        let guests: [JSONValue] = ["local", fixture.launcher("flavour-b", flavour: "b")]
        let onSlurm = fixture.directory.appendingPathComponent("slurm-out")
        let here = fixture.directory.appendingPathComponent("local-out")

        let slurm = try await HostProcess.run(
            ["matrix", try fixture.plan(dists: dists, guests: guests, output: onSlurm), "--executor", "slurm", "--partition", "debug", "--max-concurrent", "2", "--wait"],
            environment: cluster.environment, timeout: 300)
        #expect(slurm.status == 1, "one cell fails: \(slurm.stdout)\n\(slurm.stderr)")
        #expect(slurm.stdout.contains("submitted 4 cells as Slurm array job"), "\(slurm.stdout)")
        let local = try await HostProcess.run(["matrix", try fixture.plan(dists: dists, guests: guests, output: here)], timeout: 300)
        #expect(local.status == 1)

        #expect(try MatrixFiles(url: onSlurm).grades == MatrixFiles(url: here).grades)
        #expect(try MatrixFiles(url: onSlurm).grades["flavour.t on flavour-b"] == "FAIL")
        #expect(MatrixFiles(url: onSlurm).table == MatrixFiles(url: here).table, "\(MatrixFiles(url: onSlurm).table)")
        // Each cell ran as an array task with the same binary; the collector wrote the grid.
        for task in 0..<4 {
            let log = (try? String(contentsOf: onSlurm.appendingPathComponent("slurm/cell-\(task).out"), encoding: .utf8)) ?? ""
            #expect(log.contains("support-host: cell \(task) ("), "\(log)")
        }
        #expect(FileManager.default.fileExists(atPath: onSlurm.appendingPathComponent("slurm/collect.out").path))
    }

    @Test func cancellingTheSlurmJobLeavesTheMatrixResumable() async throws {
        let cluster = try await SlurmCluster.start()
        defer { cluster.stop() }
        let fixture = try MatrixFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let dists = try (1...3).map { try fixture.passing("slow\($0).t", sleep: 4) }
        let plan = try fixture.plan(dists: dists, guests: [fixture.launcher("a", flavour: "a")])
        let submit = try await HostProcess.run(["matrix", plan, "--executor", "slurm", "--max-concurrent", "2"], environment: cluster.environment)
        #expect(submit.status == 0, "\(submit.stderr)")
        #expect(submit.stdout.contains("scancel"), "says how to cancel: \(submit.stdout)")
        let jobs = (try? String(contentsOf: fixture.output.appendingPathComponent("slurm/jobs"), encoding: .utf8)) ?? ""
        let arrayJob = jobs.split(separator: "\n").first { $0.hasPrefix("array ") }.map { String($0.dropFirst(6)) } ?? ""
        #expect(await MatrixFixture.act(timeout: 120, when: { !fixture.liveGuests.isEmpty }) { _ = try? cluster.run(["scancel", arrayJob]) })
        #expect(await Fixtures.eventually(timeout: 60) { fixture.liveGuests.isEmpty }, "no guest outlives the cancel")
        #expect(await Fixtures.eventually(timeout: 60) { fixture.cellsRunning(cells: 3) == 0 }, "every cell ended")
        // A cell whose guest ran was stopped by its stop sequence and set aside (a cell still
        // starting when SIGTERM came simply ended, before any guest was launched).
        let attempts = dists.flatMap { dist in
            let cell = "\((dist as NSString).lastPathComponent)/a"
            return Fixtures.files(in: fixture.output.appendingPathComponent("attempts/cells/" + cell)).map { "\(cell)/\($0)" }
        }
        #expect(!attempts.isEmpty)
        for attempt in attempts {
            #expect(try RunFiles(url: fixture.output.appendingPathComponent("attempts/cells/" + attempt)).report["outcome"] == "interrupted")
        }

        let rerun = try await HostProcess.run(["matrix", plan, "--executor", "slurm", "--wait"], environment: cluster.environment, timeout: 300)
        #expect(rerun.status == 0, "\(rerun.stdout)\n\(rerun.stderr)")
        #expect(try MatrixFiles(url: fixture.output).grades.values.sorted() == ["PASS", "PASS", "PASS"])
    }
}
