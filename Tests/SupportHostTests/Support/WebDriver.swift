import Foundation
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Debian's chromedriver driving a headless chromium, spoken to in WebDriver's plain HTTP and
/// JSON over `RawHTTP`: open a page, run a line of script in it, read what it returns.
final class WebDriver {
    private let process = Process()
    private let port: Int
    private var session = ""

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init() async throws {
        port = Self.freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["chromedriver", "--port=\(port)"]
        process.environment = Fixtures.scratchEnvironment()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let port = self.port
        let ready = await Fixtures.eventually(timeout: 20) {
            ((try? RawHTTP.send(port: port, "GET", Array("/status".utf8), stopAtContentLength: true))?.body).map { String(decoding: $0, as: UTF8.self).contains("\"ready\":true") } ?? false
        }
        guard ready else {
            quit()
            throw Failure(description: "chromedriver did not start on port \(port)")
        }
        let profile = Fixtures.temporaryDirectory("chromium-profile")
        let capabilities: JSONValue = ["capabilities": ["alwaysMatch": ["goog:chromeOptions": [
            "binary": .string(Self.chromium),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", .string("--user-data-dir=\(profile.path)")],
        ]]]]
        let created = try command("POST", "/session", capabilities)
        guard let id = created["sessionId"]?.stringValue else {
            quit()
            throw Failure(description: "no WebDriver session: \(created)")
        }
        session = id
    }

    static var chromium: String {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/chromium" }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/chromium"
    }

    func open(_ url: String) throws {
        _ = try command("POST", "/session/\(session)/url", ["url": .string(url)])
    }

    /// Runs `script` (a function body: `return …`) in the page.
    func run(_ script: String) throws -> JSONValue {
        try command("POST", "/session/\(session)/execute/sync", ["script": .string(script), "args": []])
    }

    /// Polls `script` until `condition` holds on its value; the seconds it took, or nil.
    func wait(timeout: Double, _ script: String, until condition: (JSONValue) -> Bool) -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if let value = try? run(script), condition(value) { return Date().timeIntervalSince(start) }
            usleep(20_000)
        }
        return nil
    }

    func quit() {
        if !session.isEmpty { _ = try? command("DELETE", "/session/\(session)", nil) }
        session = ""
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // chromedriver ignores SIGTERM while it serves
            process.waitUntilExit()
        }
    }

    deinit { quit() }

    private func command(_ method: String, _ path: String, _ body: JSONValue?) throws -> JSONValue {
        let bytes = body.map { Array($0.encoded(pretty: false)) } ?? []
        let response = try RawHTTP.send(port: port, method, Array(path.utf8), headers: [("Content-Type", "application/json")], body: bytes, stopAtContentLength: true)
        let decoded = try JSONValue.decode(response.body)
        guard response.status == 200 else { throw Failure(description: "WebDriver \(method) \(path): \(response.status) \(decoded)") }
        return decoded["value"] ?? .null
    }

    /// A port nothing listens on now (bound once, then let go).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `chromium --headless --dump-dom URL`: the page's DOM after its scripts ran.
    static func dumpDOM(_ url: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        let profile = Fixtures.temporaryDirectory("chromium-dump")
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(profile.path)", "--dump-dom", url]
        process.environment = Fixtures.scratchEnvironment()
        let output = Fixtures.temporaryDirectory("chromium-out").appendingPathComponent("dom.html")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }
}
