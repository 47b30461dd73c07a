import Foundation
import PluginAPI
import Testing

@testable import SupportHost

/// The pieces of a matrix that need no run: the plan, cell names, grades, the Slurm array spec.
struct MatrixPlanTests {
    @Test func cellsAreNumberedRowByRowWithStableDirectories() async throws {
        let directory = Fixtures.temporaryDirectory("plan")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("echo 1..0\n".utf8).write(to: directory.appendingPathComponent("a.t"))
        try Data("echo 1..0\n".utf8).write(to: directory.appendingPathComponent("b c.t"))
        let plan = try await MatrixPlan.parse(Data("""
            {"dists": ["a.t", "b c.t"], "guests": ["local", {"name": "my vm", "command": ["launch", "{injector_iso}"]}], "output": "out"}
            """.utf8), base: directory)
        #expect(plan.cellCount == 4)
        #expect(plan.cell(1).dist == directory.appendingPathComponent("a.t").path)
        #expect(plan.cell(1).guest.choice == .command(["launch", "{injector_iso}"]))
        #expect(plan.cells.map(\.relativeDirectory) == ["cells/a.t/local", "cells/a.t/my_vm", "cells/b_c.t/local", "cells/b_c.t/my_vm"])
        #expect(plan.output == directory.appendingPathComponent("out").path, "relative to the plan file")
    }

    @Test func guestKindsFromTheCommandLine() throws {
        #expect(try MatrixGuest(kind: "local").choice == .local)
        #expect(try MatrixGuest(kind: "qemu:x86_64").choice == .qemu(arch: "x86_64"))
        #expect(try MatrixGuest(kind: "qemu").name == "qemu:x86_64")
        #expect(try MatrixGuest(kind: "sid=/opt/sid/launch {injector}") == MatrixGuest(name: "sid", choice: .command(["/opt/sid/launch", "{injector}"])))
        #expect(try MatrixGuest(kind: "qemu:arm64").choice == .qemu(arch: "arm64"))
        #expect(throws: MatrixPlanError.self) { try MatrixGuest(kind: "qemu:sparc") }
        #expect(throws: MatrixPlanError.self) { try MatrixGuest(kind: "vax") }
    }

    @Test func slurmArraysNameOnlyTheCellsStillToRun() {
        #expect(MatrixSlurmExecutor.arraySpec([0, 1, 2, 3]) == "0-3")
        #expect(MatrixSlurmExecutor.arraySpec([0, 2, 3, 4, 7]) == "0,2-4,7")
        #expect(MatrixSlurmExecutor.arraySpec([5]) == "5")
        #expect(MatrixSlurmExecutor.field("JobState", in: "JobId=7 JobName=x\n   JobState=PENDING Reason=Dependency") == "PENDING")
    }

    @Test func aRunThatDidNotCompleteIsAnErrorAndARunsOwnGradeWins() async {
        let timedOut: JSONValue = ["outcome": "startup-timeout", "line": "startup timeout: no ping within 5 s"]
        #expect(await MatrixGrade.of(timedOut).grade == .error)
        #expect(await MatrixGrade.of(timedOut).reason == "startup timeout: no ping within 5 s")
        let graded: JSONValue = ["outcome": "completed", "grade": "NA", "grade_reason": "needs Windows"]
        #expect(await MatrixGrade.of(graded) == (.na, "needs Windows"))
        let noReport: JSONValue = ["outcome": "completed", "results": []]
        #expect(await MatrixGrade.of(noReport).grade == .unknown)
        let failed: JSONValue = [
            "outcome": "completed", "exit_code": 0, "grade": "FAIL", "grade_reason": "failing test files: t/a.t",
            "results": [["path": "/1", "pita_report": ["commands": [], "tests": [["name": "t/a.t", "passed": 1, "failed": 1, "exit_code": 1]]]]],
        ]
        #expect(await MatrixGrade.of(failed).grade == .fail)
    }

    @Test func progressShowsCountsEtaAndOneLinePerRunningCell() {
        let progress = MatrixProgress(
            total: 6, skipped: 1, done: 2, failed: 1, interrupted: 0,
            running: [.init(name: "a.t on local", seconds: 12.5)], elapsed: 75, eta: 30)
        #expect(progress.lines == ["matrix: 3/6 done (1 FAIL/error), 1 running · 01:15 · ETA 00:30", "  a.t on local  00:12"])
    }
}
