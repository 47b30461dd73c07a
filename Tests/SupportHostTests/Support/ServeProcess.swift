import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `support-host serve DIR` as a child process: the URL it prints, its port and token, and
/// requests to it over a plain socket.
final class ServeProcess: @unchecked Sendable {
    // Safe: set in `start` and only read afterwards.
    let host: HostProcess
    let url: String
    let port: Int
    let token: String

    private init(host: HostProcess, url: String, port: Int, token: String) {
        (self.host, self.url, self.port, self.token) = (host, url, port, token)
    }

    static func start(_ directory: URL, arguments: [String] = []) async throws -> ServeProcess {
        let host = try HostProcess(["serve", directory.path] + arguments)
        var line = ""
        _ = await Fixtures.eventually(timeout: 30) {
            line = host.stdout.split(separator: "\n").first.map(String.init) ?? ""
            return line.contains("?token=")
        }
        guard let tokenStart = line.range(of: "?token="), let portStart = line.range(of: "127.0.0.1:") else {
            _ = await host.interrupt()
            throw RawHTTP.Failure.noResponse("serve printed no URL: \(host.stdout) \(host.stderr)")
        }
        let port = Int(line[portStart.upperBound...].prefix { $0.isNumber }) ?? 0
        return ServeProcess(host: host, url: line, port: port, token: String(line[tokenStart.upperBound...]))
    }

    var bearer: (String, String) { ("Authorization", "Bearer \(token)") }

    /// GET `target` with the token as a bearer header.
    func get(_ target: String, headers: [(String, String)] = []) throws -> RawHTTP.Response {
        try RawHTTP.send(port: port, "GET", target, headers: [bearer] + headers)
    }

    func page(_ target: String) throws -> String {
        String(decoding: try get(target).body, as: UTF8.self)
    }

    func stop() async {
        _ = await host.interrupt(timeout: 10)
    }
}

/// A guest that runs until told to stop: it pings, then prints `tick N` every 0.2 s and,
/// when `say` appears in its scratch directory, prints that file's contents; when `put`
/// appears, PUTs it as the optional result `/late.txt`; it exits when `stop` appears.
enum LiveGuest {
    static func script() -> String {
        Fixtures.guestScript(#"""
            curl -fsS "$SUPPORT_HOST_URL/" >/dev/null
            i=0
            while [ ! -e "$1/stop" ]; do
              i=$((i+1))
              if [ -e "$1/say" ]; then cat "$1/say"; rm -f "$1/say"; fi
              if [ -e "$1/put" ]; then curl -fsS -T "$1/put" "$SUPPORT_HOST_URL/late.txt" >/dev/null; rm -f "$1/put"; fi
              [ $((i % 5)) -eq 0 ] && echo "tick $i"
              sleep 0.05
            done
            """#)
    }

    /// Starts a live run in `runDir`; returns the host and the scratch directory that steers it.
    static func start(_ runDir: URL) async throws -> (HostProcess, URL) {
        let scratch = Fixtures.temporaryDirectory("live-guest")
        let host = try HostProcess(["run", "--optional-result", "/late.txt", "--run-dir", runDir.path, "--", script(), scratch.path])
        _ = await Fixtures.eventually(timeout: 30) { RunFiles(url: runDir).console.contains("tick") }
        return (host, scratch)
    }

    /// Makes the guest print `text` (written whole, then renamed, so it is never read half).
    static func say(_ text: String, in scratch: URL) throws {
        let pending = scratch.appendingPathComponent("say")
        let deadline = Date().addingTimeInterval(10)
        while FileManager.default.fileExists(atPath: pending.path) && Date() < deadline { usleep(10_000) }  // the last is still being said
        let temporary = scratch.appendingPathComponent("say.tmp")
        try Data((text + "\n").utf8).write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: scratch.appendingPathComponent("say"))
    }

    static func stop(_ host: HostProcess, scratch: URL) async -> Int32 {
        _ = FileManager.default.createFile(atPath: scratch.appendingPathComponent("stop").path, contents: nil)
        return await host.wait(timeout: 60)
    }
}
