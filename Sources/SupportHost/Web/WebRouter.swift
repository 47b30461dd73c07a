import FoundationEssentials
import NIOHTTP1
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// The web view's routes. Pure apart from reading the served directory: it runs off the event
/// loop (a listing may read many files), and the handler sends what it answers.
///
/// `/` runs list · `/run?dir=` run page · `/download?dir=&file=` a result · `/events?dir=` a
/// live run's events · `/matrix?dir=` grid · `/matrix-events?dir=` · `/metrics` ·
/// `/static/web.css`, `/static/web.js`.
struct WebRouter: Sendable {
    let index: RunIndex

    struct Request {
        let method: HTTPMethod
        let path: String
        let query: [String: String]
        let lastEventID: String?
    }

    static func parse(method: HTTPMethod, uri: String, lastEventID: String?) -> Request? {
        guard let components = URLComponents(string: uri) else { return nil }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] where query[item.name] == nil { query[item.name] = item.value ?? "" }
        return Request(method: method, path: components.path, query: query, lastEventID: lastEventID)
    }

    func respond(_ request: Request) -> WebResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return .problem(.methodNotAllowed, "This server only shows runs: GET and HEAD.")
        }
        switch request.path {
        case "/":
            let filter = request.query["outcome"].flatMap { $0.isEmpty ? nil : $0 }
            return .html(RunsPage.render(index.summaries(), filter: filter, matrices: MatrixView.find(under: index.root, index: index)))
        case "/run":
            guard let (id, url) = run(request) else { return noRun(request) }
            do {
                let view = try RunView.read(id: id, url: url)
                let others = index.summaries().map(\.id).filter { $0 != id }
                var comparison: RunPage.Comparison?
                if let other = request.query["compare"], !other.isEmpty {
                    guard let otherURL = index.directory(for: other), let otherReport = RunIndex.report(RunDirectory(url: otherURL)) else {
                        return .problem(.notFound, "No run directory \(other) to compare with.")
                    }
                    comparison = RunPage.Comparison(
                        id: other, lines: PlatformDiff.lines(otherReport["platforms"]?.arrayValue ?? [], view.report["platforms"]?.arrayValue ?? []))
                }
                return .html(RunPage.render(view, others: others, comparison: comparison))
            } catch {
                return .problem(.internalServerError, "Cannot read the journal of \(id): \(error)")
            }
        case "/download":
            return download(request)
        case "/events":
            guard let (id, url) = run(request) else { return noRun(request) }
            let resume = request.lastEventID.flatMap(StreamPosition.init) ?? request.query["from"].flatMap(StreamPosition.init) ?? .start
            return .events(EventStream(id: id, directory: RunDirectory(url: url), from: resume))
        case "/matrix", "/matrix-events":
            let id = request.query["dir"] ?? "."
            guard let url = matrixDirectory(id) else { return .problem(.notFound, "No matrix output directory \(id) here.") }
            if request.path == "/matrix-events" { return .events(MatrixStream(id: id, url: url, index: index)) }
            return .html(MatrixPage.render(MatrixView.read(id: id, url: url, index: index)))
        case "/metrics":
            return .bytes(status: .ok, contentType: Metrics.contentType, body: Array(Metrics.render(index.summaries()).utf8))
        case "/static/web.css":
            return .bytes(status: .ok, contentType: "text/css; charset=utf-8", body: Array(Assets.css.utf8))
        case "/static/web.js":
            return .bytes(status: .ok, contentType: "text/javascript; charset=utf-8", body: Array(Assets.js.utf8))
        default:
            return .problem(.notFound, "Nothing here. The runs are listed at /.")
        }
    }

    private func run(_ request: Request) -> (String, URL)? {
        guard let id = request.query["dir"], let url = index.directory(for: id) else { return nil }
        return (id, url)
    }

    private func noRun(_ request: Request) -> WebResponse {
        .problem(.notFound, "No run directory \(request.query["dir"] ?? "(no dir= given)") under the served directory.")
    }

    private func matrixDirectory(_ id: String) -> URL? {
        if id == "." { return MatrixView.isMatrix(index.root) ? index.root : nil }
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 4, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }) else { return nil }
        let url = index.root.appendingPathComponent(id).standardizedFileURL.resolvingSymlinksInPath()
        guard url.path.hasPrefix(index.root.path + "/"), MatrixView.isMatrix(url) else { return nil }
        return url
    }

    /// A result of the run, and only a result the run's report lists: the name must be one of
    /// its files in `results/`, and the file, symbolic links resolved, must lie in there.
    private func download(_ request: Request) -> WebResponse {
        guard let (id, url) = run(request) else { return noRun(request) }
        let name = request.query["file"] ?? ""
        let directory = RunDirectory(url: url)
        let listed = (RunIndex.report(directory)?["results"]?.arrayValue ?? []).compactMap { $0["file"]?.stringValue }
        guard !name.isEmpty, !name.contains("\0"), listed.contains("results/" + name) else {
            return .problem(.notFound, "Run \(id) has no result named \(name).")
        }
        let results = directory.results.resolvingSymlinksInPath().path + "/"
        let file = directory.results.appendingPathComponent(name).standardizedFileURL.resolvingSymlinksInPath()
        var info = stat()
        guard file.path.hasPrefix(results), stat(file.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return .problem(.notFound, "Run \(id) has no result file \(name) in its results directory.")
        }
        return .download(path: file.path, name: lastPathComponent(of: name), size: Int(info.st_size))
    }
}
