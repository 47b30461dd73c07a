import Dispatch
import FoundationEssentials
import Logging
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// Runs one cell of a matrix as an ordinary `test` run (`SchemeVerbRun`, the same path as
/// `support-host test DIST --guest …`), in the cell's own run directory. Both executors end up
/// here: the local one starts `support-host matrix run-cell` per cell, a Slurm array task runs
/// the same command. A lock per cell means one run at a time, whoever asks.
public enum MatrixCellRun {
    /// What `run-cell` did.
    public enum Result: Sendable {
        /// The cell had finished before; nothing was run.
        case skipped(MatrixGridCell)
        case ran(MatrixGridCell, exitCode: Int32)
        /// Stopped by SIGINT/SIGTERM; its directory was set aside, so the cell runs again next time.
        case interrupted
    }

    /// The verb every cell carries out.
    static let verb = "test"
    /// Set by the local executor to its pid: a cell whose parent is gone stops itself.
    public static let parentVariable = "SUPPORT_HOST_MATRIX_PARENT"

    public static func run(
        _ plan: MatrixPlan, cell index: Int, retryFailed: Bool, watchParent: pid_t?, logger: Logger
    ) async throws -> Result {
        let cell = plan.cell(index)
        let output = plan.outputURL
        let directory = cell.directory(in: output)
        let lock = try CellLock(output: output, cell: index)
        defer { lock.release() }

        let state = await MatrixCellState.read(directory)
        if !(await state.needsRun(retryFailed: retryFailed)) {
            return .skipped(await MatrixGridCell.read(cell, output: output))
        }
        if case .pending = state {} else { try setAside(directory, cell: cell, output: output) }
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)

        let stopRequest = StopRequest()
        let watcher = watchParent.map { parent in
            Task {
                // The matrix died (even by SIGKILL): stop like Ctrl-C, so the guest is stopped
                // by its stop sequence and the cell is run again next time.
                while !Task.isCancelled && getppid() == parent { try? await Task.sleep(for: .milliseconds(200)) }
                if !Task.isCancelled { stopRequest.request() }
            }
        }
        defer { watcher?.cancel() }

        var settings = try plan.jobSettings()
        settings.runDirectory = directory.path
        let request = VerbRequest(verb: verb, argument: cell.dist, scheme: plan.scheme, guest: cell.guest.guestChoice, settings: settings)
        var options = RunOptions()
        options.handleSignals = true
        options.adoptOrphans = true
        options.logger = logger
        // Called once the run's loop runs, its own signal watch in place.
        options.status = { _ in stopRequest.runIsWatching() }
        options.signalled = { _ in stopRequest.signalled() }
        let result = try await SchemeVerbRun.execute(request, options: options)
        if stopRequest.received && result.summary.outcome != .completed {
            // Asked to stop (Ctrl-C, the matrix's end, scancel): whatever the guest did as it
            // was stopped says nothing about the dist. Slurm signals the guest too, which may
            // then end as `guest-crashed` before the host sees its own SIGTERM.
            try setAside(directory, cell: cell, output: output)
            return .interrupted
        }
        let graded = await MatrixGridCell.read(cell, output: output)
        return .ran(graded, exitCode: graded.grade == .error ? result.summary.outcome.exitCode : 0)
    }

    /// Moves an earlier attempt out of the cell's way, to `OUTPUT/attempts/<cell>/<n>`: the
    /// grid reads only the cell's own directory, the attempt is kept for whoever wants to look.
    static func setAside(_ directory: URL, cell: MatrixCell, output: URL) throws {
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        let attempts = output.appendingPathComponent("attempts/" + cell.relativeDirectory)
        try FileManager.default.createDirectory(at: attempts, withIntermediateDirectories: true)
        let number = ((try? FileManager.default.contentsOfDirectory(atPath: attempts.path)) ?? []).compactMap { Int($0) }.max() ?? 0
        try FileManager.default.moveItem(at: directory, to: attempts.appendingPathComponent(String(number + 1)))
    }

    /// Why `dist` cannot be a cell's, asked of the plug-in that offers the verb (its plan
    /// stage finds the dist and its scheme); nil when it can.
    static func checkDist(_ dist: String, scheme: String?, settings: JobSettings) async -> String? {
        var arguments: [String: JSONValue] = [
            "stage": .string(VerbStage.prepare.rawValue), "argument": .string(dist),
            "mirrors": .object(Dictionary(settings.mirrors.map { ($0.0, JSONValue.string($0.1)) }) { first, _ in first }),
        ]
        if let scheme { arguments["scheme"] = .string(scheme) }
        do {
            _ = try await VerbPlugin.ask(verb, arguments: arguments)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

/// What a cell's directory says about it.
enum MatrixCellState {
    /// Never run (or set aside).
    case pending
    /// Started and never ended: a run directory without an outcome, or one that was
    /// interrupted or whose host died. Run again.
    case unfinished
    case finished(JSONValue)

    static func read(_ directory: URL) async -> MatrixCellState {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if entries.isEmpty { return .pending }
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("report.json")),
            let report = try? JSONValue.decode(data), let outcome = report["outcome"]?.stringValue
        else { return .unfinished }
        if outcome == Outcome.interrupted.rawValue || outcome == Outcome.hostCrashed.rawValue { return .unfinished }
        return .finished(report)
    }

    /// Whether an executor should run the cell: it has not finished, or it is FAIL or error
    /// and `retryFailed` asks for those again.
    func needsRun(retryFailed: Bool) async -> Bool {
        guard case .finished(let report) = self else { return true }
        return retryFailed ? await MatrixGrade.of(report).grade.needsRetry : false
    }
}

/// The plug-in offering a verb, asked outside a run (no journal, no events).
enum VerbPlugin {
    static func ask(_ verb: String, arguments: [String: JSONValue]) async throws -> JSONValue {
        guard let row = PluginTable.row(offering: verb) else {
            throw GuestSetupError.unknownVerb(verb, PluginTable.verbs.map(\.verb.name))
        }
        let plugin = try row.init(context: PluginContext(
            source: row.name, runDirectory: URL(fileURLWithPath: "."), configuration: RunConfiguration(), journal: nil, events: nil))
        return try await plugin.command(verb, arguments: arguments)
    }
}

/// Whether the cell was asked to stop (SIGINT/SIGTERM to the run, or its matrix gone), and a
/// stop asked for before the run watches for signals, passed on once it does.
final class StopRequest: Sendable {
    private struct State {
        var received = false
        var runWatching = false
    }

    private let state = Locked(State())

    var received: Bool { state.withLock { $0.received } }

    /// The run received a signal (its own watch stops the guest).
    func signalled() {
        state.withLock { $0.received = true }
    }

    /// Stops the run as SIGTERM does: now if it watches for signals, else as soon as it does.
    func request() {
        let now = state.withLock { state in
            defer { state.received = true }
            return state.runWatching
        }
        if now { kill(getpid(), SIGTERM) }
    }

    /// The run's signal watch is in place (its loop runs): a stop asked for before is passed on.
    func runIsWatching() {
        let pending = state.withLock { state in
            defer { state.runWatching = true }
            return !state.runWatching && state.received
        }
        if pending { kill(getpid(), SIGTERM) }
    }
}

/// One cell's lock, `OUTPUT/locks/cell-N.lock`, held while the cell runs: a second matrix (or
/// the rerun of a killed one, while the old cell still stops its guest) waits for it. The
/// kernel drops it when the process ends, however it ends.
struct CellLock {
    let fd: Int32

    init(output: URL, cell: Int) throws {
        let locks = output.appendingPathComponent("locks")
        try FileManager.default.createDirectory(at: locks, withIntermediateDirectories: true)
        let path = locks.appendingPathComponent("cell-\(cell).lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MatrixRunError.cannotLock(path, String(cString: strerror(errno))) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// The matrix itself could not go on (not a cell's failure).
public enum MatrixRunError: Error, CustomStringConvertible {
    case cannotLock(String, String)
    case otherPlan(String)
    case busy(String)
    case slurm(String)

    public var description: String {
        switch self {
        case .cannotLock(let path, let reason): return "cannot lock \(path): \(reason)"
        case .otherPlan(let path): return "\(path) holds another plan's matrix: give another output directory, or remove it"
        case .busy(let path): return "another matrix is running in \(path)"
        case .slurm(let reason): return "slurm: \(reason)"
        }
    }
}
