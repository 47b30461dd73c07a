import Foundation
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// The real `support-host` binary, run as a child process the way an operator or CI runs it.
final class HostProcess: @unchecked Sendable {
    // Safe: `process` and the pipes are set in init and only read afterwards.
    let process = Process()
    private let stdoutFile: URL
    private let stderrFile: URL

    /// The built executable: beside the test bundle, or in the package's .build/debug.
    static let executable: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("support-host"),
            Fixtures.packageRoot.appendingPathComponent(".build/debug/support-host"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }()

    init(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        let scratch = Fixtures.temporaryDirectory("host-output")
        stdoutFile = scratch.appendingPathComponent("stdout")
        stderrFile = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = Self.executable
        process.arguments = arguments
        // The host's and its guests' temporary files (injectors, work areas) go to the test's
        // scratch directory, which goes at exit: a test that kills a host leaves nothing in /tmp.
        var env = Fixtures.scratchEnvironment()
        env.merge(environment) { _, new in new }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }

    /// Waits for the host to exit, killing it after `timeout` seconds (a hung host fails the test).
    func wait(timeout: Double = 120) async -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    /// The port from the host's `support-host: listening on http://HOST:PORT` line, once printed.
    func listeningPort(timeout: Double = 30) async -> Int? {
        var port: Int?
        _ = await Fixtures.eventually(timeout: timeout) {
            guard let line = stdout.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
                let colon = line.lastIndex(of: ":")
            else { return false }
            port = Int(line[line.index(after: colon)...])
            return port != nil
        }
        return port
    }

    /// Ctrl-C to the host: it stops the guest, writes the report and exits 130.
    func interrupt(timeout: Double = 60) async -> Int32 {
        kill(process.processIdentifier, SIGINT)
        return await wait(timeout: timeout)
    }

    var stdout: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Runs the host to its end.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) async throws -> Finished {
        let host = try HostProcess(arguments, environment: environment)
        let status = await host.wait(timeout: timeout)
        return Finished(status: status, stdout: host.stdout, stderr: host.stderr)
    }

    struct Finished {
        let status: Int32
        let stdout: String
        let stderr: String
    }
}

/// A finished run directory, read back.
struct RunFiles {
    let url: URL

    var report: JSONValue {
        get throws { try JSONValue.decode(Data(contentsOf: url.appendingPathComponent("report.json"))) }
    }
    var journal: Data { (try? Data(contentsOf: url.appendingPathComponent("journal.log"))) ?? Data() }
    var journalText: String { String(decoding: journal, as: UTF8.self) }
    var console: String { (try? String(contentsOf: url.appendingPathComponent("console.log"), encoding: .utf8)) ?? "" }
    func result(_ name: String) -> Data? { try? Data(contentsOf: url.appendingPathComponent("results/" + name)) }
}
