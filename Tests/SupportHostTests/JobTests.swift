import Foundation
import Testing

/// A wrong job is refused before anything is launched, with exit code 64 and a message that
/// names the problem.
struct JobTests {
    static let marker = Fixtures.temporaryDirectory("marker").appendingPathComponent("launched")

    static func jobFile(_ json: String) -> String {
        let url = Fixtures.temporaryDirectory("job").appendingPathComponent("job.json")
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(json.utf8))
        return url.path
    }

    static let cases: [(name: String, arguments: [String], message: String)] = [
        ("unknown key", ["--job", jobFile(#"{"execute": ["true"], "http_prot": 80}"#)], "unknown job key 'http_prot'"),
        ("wrong type", ["--job", jobFile(#"{"execute": ["true"], "http_startup_timeout": "soon"}"#)], "'http_startup_timeout' must be a number"),
        ("not JSON", ["--job", jobFile(#"{"execute": "#)], "not valid JSON"),
        ("missing command", [], "no guest command"),
        ("command not found", ["--", "/no/such/guest"], "'/no/such/guest' not found"),
        ("result without slash", ["--result", "result.xml", "--", "true"], "result path 'result.xml' must start with '/'"),
        ("result from the job without slash", ["--job", jobFile(#"{"execute": ["true"], "http_result": ["r.xml"]}"#)], "result path 'r.xml'"),
        ("missing mirror directory", ["--mirror", "/cpan=/no/such/dir", "--", "true"], "directory '/no/such/dir' does not exist"),
        ("mirror without prefix", ["--mirror", "cpan", "--", "true"], "mirror 'cpan' must be PREFIX=DIR"),
        ("zero timeout", ["--startup-timeout", "0", "--", "true"], "--startup-timeout must be a positive number of seconds, not 0"),
        ("bad listen", ["--listen", "localhost", "--", "true"], "listen address 'localhost'"),
        ("missing job file", ["--job", "/no/such/job.json"], "cannot read job file /no/such/job.json"),
        // A plug-in's settings are checked when it starts, before the guest: the run directory
        // made for it is removed again.
        ("bad plug-in setting from --set", ["--set", "Echo.max_bytes=0", "--", "true"],
         "plug-in Echo: setting 'max_bytes' = '0': must be 1 to 1048576"),
        ("bad plug-in setting from the job", ["--job", jobFile(#"{"execute": ["true"], "plugins": {"Echo": {"max_bytes": "lots"}}}"#)],
         "plug-in Echo: setting 'max_bytes' = 'lots': must be a whole number"),
        ("unknown plug-in setting", ["--set", "Echo.max_byte=10", "--", "true"], "plug-in Echo: unknown setting 'max_byte'"),
        ("--set for no plug-in", ["--set", "Nope.x=1", "--", "true"], "no plug-in named 'Nope'"),
        ("--set without a key", ["--set", "Echo=1", "--", "true"], "must be PLUGIN.KEY=VALUE"),
    ]

    @Test(arguments: cases.indices)
    func badJobExits64NamingTheProblem(_ index: Int) async throws {
        let (name, arguments, message) = Self.cases[index]
        let runDir = Fixtures.runDirectory("bad")
        let host = try await HostProcess.run(["run", "--run-dir", runDir.path] + arguments)
        #expect(host.status == 64, "\(name): exit \(host.status)")
        #expect(host.stderr.contains(message), "\(name): \(host.stderr)")
        #expect(!FileManager.default.fileExists(atPath: runDir.path), "\(name): nothing may be created before the job is valid")
    }

    @Test func aJobFileWithPitaKeysRunsAndFlagsOverrideIt() async throws {
        let runDir = Fixtures.runDirectory("pita")
        let mirror = Fixtures.temporaryDirectory("mirror")
        let job = Self.jobFile("""
            {"execute": ["/bin/sh", "-c", "exit 0"], "http_local_addr": "127.0.0.1", "http_local_port": 0,
             "http_mirrors": {"/cpan": "\(mirror.path)"}, "http_result": "/never.xml",
             "http_startup_timeout": 30, "http_activity_timeout": 30, "http_shutdown_timeout": 5}
            """)
        // The job requires /never.xml; the flag adds a second required result; the command exits 0.
        let host = try await HostProcess.run(["run", "--job", job, "--result", "/also.xml", "--run-dir", runDir.path])
        #expect(host.status == 12, "\(host.stderr)")
        let report = try RunFiles(url: runDir).report
        #expect(report["line"]?.stringValue?.contains("/also.xml, /never.xml") == true)
        #expect(report["timeouts"]?["startup"] == 30)
    }
}
