import Foundation
import PluginAPI
import Testing

/// Run directories for the web view's tests, made by real runs of the real binary.
enum WebFixtures {
    /// What a hostile guest prints and describes: each would run script or restyle the page
    /// if it reached it unescaped (`window.pwned`, the title).
    static let scriptPayload = "<script>window.pwned=1;document.title='pwned'</script>"
    static let attributePayload = #""><img src=x onerror="window.pwned=1;document.title='pwned'">"#
    /// Red text, and an OSC sequence that would set a terminal's title.
    static let ansiPayload = "\u{1B}[31mred-text\u{1B}[0m \u{1B}]0;evil-title\u{07}after-osc"

    static var platformJSON: String {
        let object: JSONValue = [
            "scheme": "python3", "path": .string("/usr/bin/" + scriptPayload),
            "env": ["LANG": "C.UTF-8", "X<b>KEY": .string(attributePayload)],
            "config": ["version": .string(attributePayload)],
        ]
        return String(decoding: object.encoded(pretty: false), as: UTF8.self)
    }

    /// A finished, completed run whose guest pings, prints the payloads, sends a platform
    /// description carrying them and PUTs one result, `/result.txt`.
    static func hostileRun(_ runDir: URL) async throws -> HostProcess.Finished {
        let scratch = Fixtures.temporaryDirectory("hostile")
        try Data(platformJSON.utf8).write(to: scratch.appendingPathComponent("platform.json"))
        try Data((scriptPayload + "\n" + attributePayload + "\n" + ansiPayload + "\n").utf8).write(to: scratch.appendingPathComponent("say"))
        try Data("the result\n".utf8).write(to: scratch.appendingPathComponent("result.txt"))
        let guest = Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            cat "$1/say"
            curl -fsS -T "$1/platform.json" -H 'Content-Type: application/json' "$SUPPORT_HOST_URL/discover/python" >/dev/null
            curl -fsS -T "$1/result.txt" "$SUPPORT_HOST_URL/result.txt" >/dev/null
            """#)
        return try await HostProcess.run(["run", "--result", "/result.txt", "--run-dir", runDir.path, "--", guest, scratch.path])
    }

    /// A finished run that ends `results-missing`: the guest pings and exits without its result.
    static func missingResultRun(_ runDir: URL) async throws -> HostProcess.Finished {
        let guest = Fixtures.guestScript(#"curl -fsS "$SUPPORT_HOST_URL/" >/dev/null; echo bye"#)
        return try await HostProcess.run(["run", "--result", "/never.txt", "--run-dir", runDir.path, "--", guest])
    }
}

/// A python3 script run with `input` on its standard input; its standard output.
enum PythonScript {
    struct Failed: Error, CustomStringConvertible {
        let status: Int32
        let stderr: String
        var description: String { "python3 exited \(status): \(stderr)" }
    }

    static func run(_ script: String, input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        (process.standardInput, process.standardOutput, process.standardError) = (stdin, stdout, stderr)
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(status: process.terminationStatus, stderr: String(decoding: errors, as: UTF8.self)) }
        return output
    }

    static func succeeds(_ script: String) -> Bool {
        (try? run(script, input: Data())) != nil
    }
}

extension Needs {
    static let prometheusClient = python3 && PythonScript.succeeds("import prometheus_client.parser")
    static let prometheusClientHint: Comment = "needs Python's prometheus_client: pip install prometheus_client"
    /// Debian's chromium and its WebDriver.
    static let chromium = Fixtures.has("chromium") && Fixtures.has("chromedriver")
    static let chromiumHint: Comment = "needs a browser: apt-get install -y chromium chromium-driver"
}
