import ArgumentParser
import FoundationEssentials
import SupportHost
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// `support-host serve [DIR]`: watch runs and matrices in a browser, and scrape `/metrics`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve a web view of the runs under a directory (and /metrics).",
        discussion: """
            Prints one URL with a token made for this start; open it in a browser (nothing is opened for you). \
            The browser keeps the token in a cookie. Other clients give it as ?token=TOKEN or as the header \
            Authorization: Bearer TOKEN (e.g. a Prometheus scrape of /metrics). Requests without it get 403.
            """)

    @Argument(help: ArgumentHelp("The runs to show: a directory of run directories, or a matrix output directory.", valueName: "dir"))
    var directory = "runs"

    @Option(help: ArgumentHelp("Address to listen on (default 127.0.0.1:0, any free port).", valueName: "host:port"))
    var listen = "127.0.0.1:0"

    @Option(help: ArgumentHelp("Use this token instead of a random one (for scripts; keep it secret).", valueName: "token"))
    var token: String?

    func run() async throws {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory else {
            throw fail("\(directory) does not exist or is not a directory (runs go to ./runs unless --run-dir says otherwise)", code: 66)
        }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw fail("--listen \(listen): expected HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)", code: 64)
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let token, token.count < 16 || !token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            throw fail("--token: at least 16 letters or digits", code: 64)
        }
        let server: WebServer
        do {
            server = try await WebServer.start(root: URL(fileURLWithPath: directory), host: host, port: port, token: token)
        } catch {
            throw fail("cannot listen on \(listen): \(error)", code: 32)
        }
        try? FileIO.writeAll(STDOUT_FILENO, Data((server.url + "\n").utf8))  // unbuffered: a script reads it at once
        try await server.wait()
    }
}
