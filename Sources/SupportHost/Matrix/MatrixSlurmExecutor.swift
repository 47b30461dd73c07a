import FoundationEssentials
import Subprocess
import SystemPackage
import SupportKit

/// Runs a matrix on a Slurm cluster: one array job whose task N runs cell N with this same
/// binary (`support-host matrix run-cell OUTPUT/plan.json --cell N`, as the local executor
/// does), and a collector job after it (`--dependency=afterany`) that writes the grid. Slurm
/// does the scheduling; the output directory must be on a file system every node shares.
public struct MatrixSlurmExecutor: Sendable {
    public var plan: MatrixPlan
    /// This program; it must be at the same path on every node.
    public var executable: String
    public var partition: String?
    /// At most this many cells at once (the array's `%K`).
    public var maxConcurrent: Int?
    public var retryFailed = false

    public init(plan: MatrixPlan, executable: String) {
        self.plan = plan
        self.executable = executable
    }

    public struct Submission: Sendable {
        /// Cells submitted (those not finished before).
        public var cells: Int
        public var arrayJob: String
        public var collectorJob: String
    }

    /// Submits the cells that have not finished, and the collector.
    public func submit() async throws -> Submission {
        try MatrixOutput.adopt(plan)
        let output = plan.outputURL
        let lock = try MatrixLock(output: output)
        defer { lock.release() }
        var todo: [Int] = []
        for cell in plan.cells {
            if !(await MatrixCellState.read(cell.directory(in: output)).needsRun(retryFailed: retryFailed)) {
                continue
            }
            todo.append(cell.index)
        }
        guard !todo.isEmpty else { return Submission(cells: 0, arrayJob: "", collectorJob: "") }
        let slurm = output.appendingPathComponent("slurm")
        try FileManager.default.createDirectory(at: slurm, withIntermediateDirectories: true)
        let planFile = output.appendingPathComponent(MatrixOutput.planFile).path
        let cellScript = slurm.appendingPathComponent("cell.sh")
        // exec: the cell is the task's process, so scancel's SIGTERM reaches the run, which
        // stops its guest and sets the cell aside to run again.
        try Self.writeScript(cellScript, """
            unset \(MatrixCellRun.parentVariable)
            exec \(Self.quote(executable)) matrix run-cell \(Self.quote(planFile)) --cell "$SLURM_ARRAY_TASK_ID"\(retryFailed ? " --retry-failed" : "")
            """)
        let collectScript = slurm.appendingPathComponent("collect.sh")
        try Self.writeScript(collectScript, "exec \(Self.quote(executable)) matrix report \(Self.quote(output.path))")

        var common = ["--parsable", "--chdir=\(output.path)"]
        if let partition { common.append("--partition=\(partition)") }
        let array = Self.arraySpec(todo) + (maxConcurrent.map { "%\($0)" } ?? "")
        let arrayJob = try await Self.sbatch(common + [
            "--job-name=support-host-matrix", "--array=\(array)", "--output=\(slurm.path)/cell-%a.out", cellScript.path,
        ])
        let collectorJob = try await Self.sbatch(common + [
            "--job-name=support-host-matrix-grid", "--dependency=afterany:\(arrayJob)", "--kill-on-invalid-dep=yes",
            "--output=\(slurm.path)/collect.out", collectScript.path,
        ])
        try Data("array \(arrayJob)\ncollector \(collectorJob)\n".utf8).write(to: slurm.appendingPathComponent("jobs"), options: .atomic)
        return Submission(cells: todo.count, arrayJob: arrayJob, collectorJob: collectorJob)
    }

    /// Polls `scontrol show job` (no accounting needed) until the job has ended; its state.
    public func waitFor(job: String, poll: Duration = .milliseconds(500)) async throws -> String {
        while true {
            let (status, text) = try await Self.command("scontrol", ["show", "job", job])
            if status != 0 {
                // Gone from the controller's memory (MinJobAge): it ended long enough ago.
                if text.contains("Invalid job id") { return "ENDED" }
                throw MatrixRunError.slurm("scontrol show job \(job): \(text)")
            }
            if let state = Self.field("JobState", in: text), Self.endStates.contains(state) { return state }
            try await Task.sleep(for: poll)
        }
    }

    static let endStates: Set<String> = [
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
    ]

    /// `0-3,5,7-8`: consecutive cells as ranges.
    static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var start = indices.first ?? 0
        var previous = start
        for index in indices.dropFirst() + [Int.min] {
            if index == previous + 1 {
                previous = index
                continue
            }
            parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
            start = index
            previous = index
        }
        return parts.joined(separator: ",")
    }

    static func field(_ name: String, in text: String) -> String? {
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasPrefix(name + "=") {
            return String(word.dropFirst(name.count + 1))
        }
        return nil
    }

    private static func sbatch(_ arguments: [String]) async throws -> String {
        let (status, text) = try await command("sbatch", arguments)
        let id = text.split(separator: "\n").last.map { String($0.split(separator: ";").first ?? "") } ?? ""
        guard status == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw MatrixRunError.slurm("sbatch \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return id
    }

    static func command(_ name: String, _ arguments: [String]) async throws -> (Int32, String) {
        do {
            let result = try await Subprocess.run(
                .name(name), arguments: Arguments(arguments), output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
            let text = (result.standardOutput + result.standardError).trimmingWhitespace()
            if case .exited(let code) = result.terminationStatus { return (code, text) }
            return (-1, text)
        } catch {
            throw MatrixRunError.slurm("cannot run \(name) (is Slurm installed and on PATH?): \(error)")
        }
    }

    private static func writeScript(_ url: URL, _ body: String) throws {
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    static func quote(_ text: String) -> String { "'" + text.replacingEvery("'", with: "'\\''") + "'" }
}
