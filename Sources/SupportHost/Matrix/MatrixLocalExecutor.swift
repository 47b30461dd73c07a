import Dispatch
import FoundationEssentials
import PluginAPI
import SupportKit
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs a matrix's cells on this machine, `jobs` at a time, each as a child process of this
/// same binary (`support-host matrix run-cell OUTPUT/plan.json --cell N`) — the command a Slurm
/// array task runs, so both executors run a cell one way. A child of its own also gives each
/// cell what a run assumes it has alone: its signal handling, its subreaper, its stop sequence.
public struct MatrixLocalExecutor: Sendable {
    public var plan: MatrixPlan
    public var jobs: Int
    public var retryFailed = false
    /// This program, run once per cell.
    public var executable: String
    /// Called whenever a cell starts or ends, and about once a second.
    public var progress: (@Sendable (MatrixProgress) -> Void)?

    public init(plan: MatrixPlan, jobs: Int, executable: String) {
        self.plan = plan
        self.jobs = jobs
        self.executable = executable
    }

    /// How many cells at once by default: one per core, and for VM guests no more than the
    /// memory available holds at the guest's `-m` (plus qemu's own overhead).
    public static func defaultJobs(for plan: MatrixPlan) -> (jobs: Int, note: String?) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard plan.guests.contains(where: \.isVM), let available = availableMemoryMiB() else { return (cores, nil) }
        let perVM = QemuGuest(kernel: "", initrd: "").memoryMiB + 128
        let fit = max(1, available / perVM)
        return fit < cores ? (fit, "\(fit) cell\(fit == 1 ? "" : "s") at once: \(available) MiB available, \(perVM) MiB per VM") : (cores, nil)
    }

    static func availableMemoryMiB() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kib / 1024
    }

    /// Runs every cell that has not finished; returns whether Ctrl-C / SIGTERM stopped it early.
    public func run() async throws -> Bool {
        let output = plan.outputURL
        try MatrixOutput.adopt(plan)
        let lock = try MatrixLock(output: output)
        defer { lock.release() }
        let logs = output.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)

        var todo: [MatrixCell] = []
        var finished = 0
        for cell in plan.cells {
            if !(await MatrixCellState.read(cell.directory(in: output)).needsRun(retryFailed: retryFailed)) {
                finished += 1
            } else {
                todo.append(cell)
            }
        }
        // A cell killed outright (not the matrix: a cell stopped by a signal stops its guest)
        // leaves its guest to this process; those are ended once no cell runs any more.
        _ = Reaper.becomeSubreaper()
        defer { _ = Reaper.endAdoptedOrphans() }
        let board = MatrixBoard(total: plan.cellCount, skipped: finished, jobs: jobs)
        let stopping = Locked(false)
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                stopping.withLock { $0 = true }
                // Each cell runs its stop sequence, as it would for Ctrl-C to `support-host test`.
                for pid in board.runningPIDs() { kill(pid, SIGTERM) }
            }
            source.resume()
            return source
        }
        defer {
            for source in signals { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        let ticker = Task { [progress] in
            while !Task.isCancelled {
                progress?(board.snapshot())
                try? await Task.sleep(for: .seconds(1))
            }
        }
        defer { ticker.cancel() }

        await withTaskGroup(of: Void.self) { group in
            var queue = todo[...]
            var running = 0
            while true {
                while running < jobs, let cell = queue.first, !stopping.withLock({ $0 }) {
                    queue = queue.dropFirst()
                    running += 1
                    group.addTask { await runCell(cell, logs: logs, board: board) }
                }
                if running == 0 { break }
                await group.next()
                running -= 1
                progress?(board.snapshot())
            }
        }
        progress?(board.snapshot())
        return stopping.withLock { $0 }
    }

    private func runCell(_ cell: MatrixCell, logs: URL, board: MatrixBoard) async {
        let log = logs.appendingPathComponent("cell-\(cell.index).log").path
        let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer { if fd >= 0 { close(fd) } }
        let sink = FileDescriptor(rawValue: fd >= 0 ? fd : 2)
        var options = PlatformOptions()
        // Its own process group: Ctrl-C on the terminal reaches the matrix only, which then
        // stops each cell once (a cell signalled twice hurries its stop sequence).
        options.processGroupID = 0
        var arguments = ["matrix", "run-cell", plan.outputURL.appendingPathComponent(MatrixOutput.planFile).path, "--cell", String(cell.index)]
        if retryFailed { arguments.append("--retry-failed") }
        let started = Date()
        var exitCode: Int32 = -1
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments),
                environment: .inherit.updating([Environment.Key(rawValue: MatrixCellRun.parentVariable)!: String(getpid())]),
                platformOptions: options, input: .none,
                output: .fileDescriptor(sink, closeAfterSpawningProcess: false),
                error: .fileDescriptor(sink, closeAfterSpawningProcess: false)
            ) { execution in
                board.started(cell, pid: execution.processIdentifier.value, at: started)
            }
            if case .exited(let code) = result.terminationStatus { exitCode = code }
        } catch {
            let text = "support-host matrix: cannot start cell \(cell.index): \(error)\n"
            _ = text.withCString { write(fd >= 0 ? fd : 2, $0, strlen($0)) }
        }
        let graded = await MatrixGridCell.read(cell, output: plan.outputURL)
        board.ended(cell, grade: exitCode == 130 ? nil : graded.grade, seconds: Date().timeIntervalSince(started))
    }
}

/// The whole matrix's lock, `OUTPUT/locks/matrix.lock`: one matrix process per output
/// directory at a time (its cells have their own locks).
struct MatrixLock {
    let fd: Int32

    init(output: URL) throws {
        let locks = output.appendingPathComponent("locks")
        try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true)
        let path = locks.appendingPathComponent("matrix.lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MatrixRunError.cannotLock(path, String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw MatrixRunError.busy(output.path)
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
