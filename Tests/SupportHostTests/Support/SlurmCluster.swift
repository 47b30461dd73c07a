import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A single-node Slurm cluster for one test: `scripts/slurm-cluster start DIR` on a port of its
/// own, stopped (and DIR removed) by `stop()`.
struct SlurmCluster {
    let directory: URL
    var conf: String { directory.appendingPathComponent("slurm.conf").path }
    /// What a host process needs to reach this cluster.
    var environment: [String: String] { ["SLURM_CONF": conf, "PATH": (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"] }

    static let available = ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: $0)
    } && getuid() == 0
    static let hint: Comment = "needs Slurm and munge (and root, to run munged as user munge): apt-get install slurm-wlm munge"

    /// Starts the cluster off the test's cooperative threads (the script takes a second or more,
    /// and a blocked thread of the two on this machine would stall every other test's polling).
    static func start() async throws -> SlurmCluster {
        let cluster = SlurmCluster(directory: Fixtures.temporaryDirectory("slurm"))
        let port = 20000 + Int(getpid() % 2000) * 4 + Int.random(in: 0..<2) * 2
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.script(["start", cluster.directory.path], port: port) })
            }
        }
        guard status == 0 else {
            cluster.stop()
            throw ClusterError(reason: "scripts/slurm-cluster start exited \(status)")
        }
        return cluster
    }

    func stop() {
        _ = try? Self.script(["stop", directory.path], port: 0)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs a Slurm client command against this cluster; its output.
    func run(_ argv: [String]) throws -> String {
        let output = directory.appendingPathComponent("client-\(UUID().uuidString.prefix(8)).out")
        _ = try Self.spawn(["/usr/bin/env"] + argv, environment: environment, output: output.path)
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    private static func script(_ arguments: [String], port: Int) throws -> Int32 {
        try spawn(
            [Fixtures.packageRoot.appendingPathComponent("scripts/slurm-cluster").path] + arguments,
            environment: ["SLURM_CLUSTER_PORT": String(port), "PATH": (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"],
            output: "/dev/null")
    }

    /// posix_spawn and waitpid: Foundation's `Process` was seen never to notice the end of the
    /// script whose daemons live on (its zombie was never reaped).
    private static func spawn(_ argv: [String], environment: [String: String], output: String) throws -> Int32 {
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { "\($0.key)=\($0.value)" }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, &cEnv)
        guard error == 0 else { throw ClusterError(reason: "cannot run \(argv[0]): \(String(cString: strerror(error)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    struct ClusterError: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }
}
