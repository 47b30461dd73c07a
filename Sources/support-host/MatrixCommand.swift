import ArgumentParser
import FoundationEssentials
import Logging
import PluginAPI
import SupportHost
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// `support-host matrix`: many dists on many guests, one ordinary run per cell, one grid.
struct MatrixCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Test many dists on many guests: one run per cell, one results grid.",
        discussion: """
            support-host matrix PLAN.json [--jobs N] [--retry-failed]
            support-host matrix --dist FILE… --guest local|qemu:x86_64|NAME=COMMAND… --output DIR
            support-host matrix PLAN.json --executor slurm [--partition P] [--max-concurrent K] [--wait]
            support-host matrix report DIR

            Exit codes: 0 every cell ran and none is FAIL or error; 1 some cell is FAIL or error (or did not run); 64 bad plan; 70 host error; 130 interrupted (rerun to resume).
            """,
        subcommands: [MatrixStartCommand.self, MatrixRunCellCommand.self, MatrixReportCommand.self],
        defaultSubcommand: MatrixStartCommand.self)
}

struct MatrixStartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Run (or resume) a matrix: the default of `support-host matrix`.")

    @Argument(help: "The plan file (JSON: dists, guests, settings, output).")
    var plan: String?

    @Option(name: .customLong("dist"), parsing: .upToNextOption, help: "Dists, instead of a plan: tarballs, TAP scripts or names in a --mirror.")
    var dists: [String] = []

    @Option(name: .customLong("guest"), parsing: .upToNextOption, help: "Guests, instead of a plan: local, qemu:x86_64, or NAME=COMMAND.")
    var guests: [String] = []

    @Option(name: .customLong("mirror"), help: "With --dist: serve DIR under PREFIX, as PREFIX=DIR (repeatable).")
    var mirrors: [String] = []

    @Option(help: "The output directory (overrides the plan's).")
    var output: String?

    @Option(help: "Cells at once on this machine (default: the plan's, else the cores, capped by memory for VMs).")
    var jobs: Int?

    @Flag(help: "Run FAIL and error cells again (finished PASS/NA/UNKNOWN cells are kept).")
    var retryFailed = false

    @Option(help: "local (default) or slurm.")
    var executor: String = "local"

    @Option(help: "Slurm: the partition for the cells and the collector.")
    var partition: String?

    @Option(help: "Slurm: at most this many cells at once (the array's %K).")
    var maxConcurrent: Int?

    @Flag(help: "Slurm: wait for the collector and print the grid.")
    var wait = false

    func run() async throws {
        let plan: MatrixPlan
        do {
            plan = try await loadPlan()
        } catch {
            throw fail("\(error)", code: Outcome.badJobExitCode)
        }
        do {
            switch executor {
            case "slurm": try await runOnSlurm(plan)
            default: try await runHere(plan)
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw fail("\(error)", code: Outcome.hostErrorExitCode)
        }
    }

    private func loadPlan() async throws(MatrixPlanError) -> MatrixPlan {
        var problems: [String] = []
        if !["local", "slurm"].contains(executor) { problems.append("--executor must be local or slurm, not '\(executor)'") }
        if let jobs, jobs < 1 { problems.append("--jobs must be 1 or more") }
        if let maxConcurrent, maxConcurrent < 1 { problems.append("--max-concurrent must be 1 or more") }
        var plan: MatrixPlan
        if let path = self.plan {
            if !dists.isEmpty || !guests.isEmpty || !mirrors.isEmpty { problems.append("give a plan file or --dist/--guest, not both") }
            do throws(MatrixPlanError) {
                plan = try await MatrixPlan.load(path: path)
            } catch {
                throw MatrixPlanError(problems: problems + error.problems)
            }
        } else {
            let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            plan = MatrixPlan(dists: dists.map { MatrixPlan.resolve($0, base: here, onlyIfExists: true) }, guests: [], output: "")
            for guest in guests {
                do throws(MatrixPlanError) { plan.guests.append(try MatrixGuest(kind: guest)) } catch { problems += error.problems.map { "--guest: " + $0 } }
            }
            var mounts: [String: JSONValue] = [:]
            for mirror in mirrors {
                guard let equals = mirror.firstIndex(of: "="), mirror.hasPrefix("/") else {
                    problems.append("--mirror '\(mirror)' must be PREFIX=DIR with PREFIX starting with '/'")
                    continue
                }
                mounts[String(mirror[..<equals])] = .string(MatrixPlan.resolve(String(mirror[mirror.index(after: equals)...]), base: here))
            }
            if !mounts.isEmpty { plan.settings["mirrors"] = .object(mounts) }
        }
        if let output { plan.output = URL(fileURLWithPath: output).standardizedFileURL.path }
        if plan.output.isEmpty || self.plan == nil { problems += await plan.problems() }
        if !problems.isEmpty { throw MatrixPlanError(problems: problems) }
        return plan
    }

    private func runHere(_ plan: MatrixPlan) async throws {
        var executor = MatrixLocalExecutor(plan: plan, jobs: 1, executable: selfExecutable())
        let (defaultJobs, note) = MatrixLocalExecutor.defaultJobs(for: plan)
        executor.jobs = jobs ?? plan.jobs ?? defaultJobs
        if jobs == nil && plan.jobs == nil, let note { try? FileIO.writeAll(STDERR_FILENO, Data("support-host: \(note)\n".utf8)) }
        executor.retryFailed = retryFailed
        let display = MatrixDisplay()
        if display.isTerminal { executor.progress = { display.show($0) } }
        let interrupted = try await executor.run()
        display.end()
        let grid = await MatrixGrid.read(plan)
        try grid.write()
        print(grid.table, terminator: "")
        print("support-host: grid in \(plan.outputURL.appendingPathComponent("matrix.json").path)")
        if interrupted {
            throw fail("interrupted: run the same command again to resume", code: Outcome.interrupted.exitCode)
        }
        throw ExitCode(Self.exitCode(grid))
    }

    private func runOnSlurm(_ plan: MatrixPlan) async throws {
        var slurm = MatrixSlurmExecutor(plan: plan, executable: selfExecutable())
        slurm.partition = partition
        slurm.maxConcurrent = maxConcurrent
        slurm.retryFailed = retryFailed
        let submitted = try await slurm.submit()
        guard submitted.cells > 0 else {
            print("support-host: every cell has finished; grid rebuilt")
            let grid = await MatrixGrid.read(plan)
            try grid.write()
            print(grid.table, terminator: "")
            throw ExitCode(Self.exitCode(grid))
        }
        print("support-host: submitted \(submitted.cells) cell\(submitted.cells == 1 ? "" : "s") as Slurm array job \(submitted.arrayJob); collector job \(submitted.collectorJob)")
        guard wait else {
            print("""
                support-host: follow it with: squeue -j \(submitted.arrayJob),\(submitted.collectorJob)
                support-host: the grid will be in \(plan.outputURL.appendingPathComponent("matrix.txt").path) (or run: support-host matrix report \(plan.outputURL.path))
                support-host: cancel with: scancel \(submitted.arrayJob) \(submitted.collectorJob) (the matrix stays resumable)
                """)
            return
        }
        let state = try await slurm.waitFor(job: submitted.collectorJob)
        let grid = await MatrixGrid.read(plan)
        try grid.write()
        print(grid.table, terminator: "")
        if state != "COMPLETED" { throw fail("the collector job ended \(state)", code: 1) }
        throw ExitCode(Self.exitCode(grid))
    }

    static func exitCode(_ grid: MatrixGrid) -> Int32 {
        grid.cells.contains { $0.grade == .fail || $0.grade == .error || $0.grade == .notRun } ? 1 : 0
    }
}

/// `support-host matrix run-cell PLAN --cell N`: one cell, as an executor starts it.
struct MatrixRunCellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-cell", abstract: "Run one cell of a matrix (what each executor starts; a finished cell is skipped).")

    @Argument(help: "The plan file (the user's, or OUTPUT/plan.json).")
    var plan: String

    @Option(help: "The cell's number, 0 ..< dists × guests (row by row).")
    var cell: Int

    @Flag(help: "Run the cell again if it is FAIL or error.")
    var retryFailed = false

    func run() async throws {
        let plan: MatrixPlan
        do {
            // Checked whole when the matrix started; the cell's own run finds its dist (and
            // says so if it cannot), so N cells do not look for all N dists again.
            plan = try await MatrixPlan.load(path: self.plan, check: false)
        } catch {
            throw fail("\(error)", code: Outcome.badJobExitCode)
        }
        guard (0..<plan.cellCount).contains(cell) else {
            throw fail("--cell must be in 0...\(plan.cellCount - 1)", code: Outcome.badJobExitCode)
        }
        let parent = ProcessInfo.processInfo.environment[MatrixCellRun.parentVariable].flatMap { pid_t($0) }
        let result: MatrixCellRun.Result
        do {
            result = try await MatrixCellRun.run(
                plan, cell: cell, retryFailed: retryFailed, watchParent: parent, logger: Console.shared.logger(level: .info))
        } catch let error as JobError {
            throw fail("bad job: \(error)", code: Outcome.badJobExitCode)
        } catch {
            throw fail("\(error)", code: Outcome.hostErrorExitCode)
        }
        switch result {
        case .skipped(let graded):
            print("support-host: cell \(cell) (\(graded.dist) on \(graded.guest)) finished before: \(graded.grade.rawValue)")
        case .ran(let graded, let exitCode):
            print("support-host: cell \(cell) (\(graded.dist) on \(graded.guest)): \(graded.grade.rawValue) \(graded.reason)")
            throw ExitCode(exitCode)
        case .interrupted:
            throw fail("cell \(cell) interrupted; it runs again when the matrix is run again", code: Outcome.interrupted.exitCode)
        }
    }
}

/// `support-host matrix report DIR`: the grid again, from the run directories alone.
struct MatrixReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Rebuild matrix.json and the table from a matrix's run directories.")

    @Argument(help: "The matrix's output directory.")
    var directory: String

    @Flag(help: "Print matrix.json instead of the table.")
    var json = false

    func run() async throws {
        let grid: MatrixGrid
        do {
            grid = try await MatrixGrid.read(output: directory)
        } catch {
            throw fail("\(error)", code: Outcome.badJobExitCode)
        }
        try grid.write()
        if json {
            print(String(decoding: grid.json.encoded(pretty: true), as: UTF8.self))
        } else {
            print(grid.table, terminator: "")
        }
    }
}

/// The matrix's progress on a terminal: a summary line and one line per running cell, redrawn
/// in place. Nothing when standard output is not a terminal.
final class MatrixDisplay: @unchecked Sendable {
    // Safe: `drawn` is only touched under `lock`.
    private let lock = ThreadLock()
    private var drawn = 0
    let isTerminal = isatty(STDOUT_FILENO) == 1

    func show(_ progress: MatrixProgress) {
        lock.withLock {
            var text = drawn > 0 ? "\u{1B}[\(drawn)A\r" : ""
            for line in progress.lines { text += "\u{1B}[2K" + line + "\n" }
            text += "\u{1B}[J"
            drawn = progress.lines.count
            try? FileIO.writeAll(STDOUT_FILENO, Data(text.utf8))
        }
    }

    func end() {
        lock.withLock {
            if drawn > 0 { try? FileIO.writeAll(STDOUT_FILENO, Data("\u{1B}[\(drawn)A\r\u{1B}[J".utf8)) }
            drawn = 0
        }
    }
}
