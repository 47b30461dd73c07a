import FoundationEssentials
import PluginAPI
import SupportKit

/// `/run?dir=ID`: one run — outcome, timeline, requests by status, results, platforms, the
/// stop sequence and the last of the console. A live run's page carries where its event
/// stream starts (`data-events`), and web.js follows it.
enum RunPage {
    /// Another run's platforms set against this one's (`?compare=ID`).
    struct Comparison {
        let id: String
        let lines: [String]
    }

    static func render(_ view: RunView, others: [String] = [], comparison: Comparison? = nil) -> String {
        let report = view.report
        let query = "dir=" + HTML.queryComponent(view.id)
        var body = "<h1>Run <span class=\"run-id\">\(HTML.escape(view.id))</span></h1>\n"
        let outcome = report["outcome"]?.stringValue
        let line = report["line"]?.stringValue ?? (outcome == nil ? "running: no outcome yet" : outcome!)
        body += "<p id=\"outcome\" class=\"outcome \(outcome == nil ? "g-running" : outcome == "completed" ? "g-done" : "g-error")\">\(HTML.escape(HTML.consoleText(line)))</p>\n"
        if let grade = report["grade"]?.stringValue {
            body += "<p class=\"grade \(WebWords.gradeClass(grade))\">Grade: \(HTML.escape(grade))</p>\n"
        }
        let command = report["command"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
        body += "<dl class=\"facts\"><dt>Command</dt><dd>\(HTML.escape(command))</dd>"
        body += "<dt>Started</dt><dd>\(HTML.escape(WebWords.wall(report["started"]?.stringValue)))</dd>"
        body += "<dt>Duration</dt><dd>\(HTML.escape(WebWords.duration(report["duration"]?.doubleValue)))</dd></dl>\n"

        body += "<h2>Timeline</h2>\n<ol id=\"timeline\" class=\"timeline\">\n"
        for item in (report["timeline"]?.arrayValue ?? []).map(TimelineItem.init) { body += timelineLine(item) }
        body += "</ol>\n"

        body += "<h2>Requests by status</h2>\n<table class=\"requests\"><thead><tr><th>Status</th><th>Count</th></tr></thead><tbody id=\"requests\">\n"
        let byStatus = report["requests"]?["by_status"]?.objectValue ?? [:]
        for status in byStatus.keys.sorted() {
            body += "<tr data-status=\"\(HTML.escape(status))\"><td>\(HTML.escape(status))</td><td>\(byStatus[status]?.intValue ?? 0)</td></tr>\n"
        }
        body += "</tbody></table>\n"

        body += results(report["results"]?.arrayValue ?? [], query: query, live: view.isLive)
        body += platforms(report["platforms"]?.arrayValue ?? [])
        body += compareForm(view.id, others: others, chosen: comparison?.id)
        if let comparison {
            body += "<p>Platforms of this run against those of <a href=\"/run?dir=\(HTML.escape(HTML.queryComponent(comparison.id)))\">\(HTML.escape(comparison.id))</a>:</p>\n"
            body += comparison.lines.isEmpty
                ? "<p id=\"platform-diff\" class=\"empty\">The same platforms.</p>\n"
                : "<pre id=\"platform-diff\" class=\"diff\">" + comparison.lines.map { HTML.escape(HTML.consoleText($0)) + "\n" }.joined() + "</pre>\n"
        }
        body += stop(report["stop"])
        body += mirror(report)

        if let guests = report["guests"]?.arrayValue {
            body += guestConsoles(guests)
        } else {
            body += "<h2>Console</h2>\n<pre id=\"console\" class=\"console\">"
            body += view.console.map { HTML.escape($0) + "\n" }.joined()
            body += "</pre>\n"
        }
        if view.isLive {
            let events = "/events?\(query)&from=\(view.position.text)"
            body += "<p id=\"live\" class=\"live\" data-events=\"\(HTML.escape(events))\">live: following the run</p>\n"
        }
        return HTML.page(title: "Run \(view.id)", body: body, script: view.isLive)
    }

    /// A run of several guests: each guest's state and the last of its console (as of the
    /// report; the live stream follows `console.log` of a run of one guest only).
    static func guestConsoles(_ guests: [JSONValue]) -> String {
        var body = "<h2>Guests</h2>\n"
        for guest in guests {
            let name = guest["name"]?.stringValue ?? "?"
            var facts = [guest["role"]?.stringValue.map { "role \($0)" }, guest["essential"] == false ? "not essential" : nil]
            if let failed = guest["failed"]?.stringValue { facts.append("failed: \(failed)") }
            if let exit = guest["exit"]?.objectValue { facts.append(TimelineItem.detail(exit)) }
            body += "<h3 class=\"guest\">\(HTML.escape(name))</h3>\n<p class=\"guest-facts\">\(HTML.escape(HTML.consoleText(facts.compactMap { $0 }.joined(separator: " · "))))</p>\n"
            body += "<pre class=\"console\">" + (guest["console_tail"]?.arrayValue ?? []).compactMap(\.stringValue).map { HTML.escape(HTML.consoleText($0)) + "\n" }.joined() + "</pre>\n"
        }
        return body
    }

    static func timelineLine(_ item: TimelineItem) -> String {
        "<li><span class=\"t\">\(HTML.escape(String(printf: "%.3f s", item.time)))</span> <span class=\"ev\">\(HTML.escape(item.event))</span> <span class=\"detail\">\(HTML.escape(HTML.consoleText(item.detail)))</span></li>\n"
    }

    /// The results table; a live run's has one even while empty, for the rows its stream adds.
    static func results(_ results: [JSONValue], query: String, live: Bool = false) -> String {
        var html = "<h2>Results</h2>\n"
        guard !results.isEmpty || live else { return html + "<p class=\"empty\">No results.</p>\n" }
        html += "<table class=\"results\"><thead><tr><th>Path</th><th>Size</th><th>SHA-256</th><th>File</th></tr></thead><tbody id=\"results\">\n"
        for result in results.map({ ResultRow($0, query: query) }) {
            html += "<tr><td>\(HTML.escape(result.path))</td><td>\(HTML.escape(result.size))</td>"
            html += "<td class=\"digest\">\(HTML.escape(result.sha256))</td>"
            html += "<td><a href=\"\(HTML.escape(result.href))\" download>\(HTML.escape(result.name))</a></td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    /// One result as the page shows it, from the report or from the host's live `result-accepted` record.
    struct ResultRow {
        let path: String
        let size: String
        let sha256: String
        let name: String
        let href: String

        init(_ fields: JSONValue, query: String) {
            path = fields["path"]?.stringValue ?? "?"
            size = byteText(fields["size"]?.intValue ?? 0)
            sha256 = fields["sha256"]?.stringValue ?? ""
            let file = fields["file"]?.stringValue ?? ""
            name = file.hasPrefix("results/") ? String(file.dropFirst("results/".count)) : file
            href = "/download?\(query)&file=\(HTML.queryComponent(name))"
        }

        var json: JSONValue {
            ["path": .string(path), "size": .string(size), "sha256": .string(sha256), "name": .string(name), "href": .string(href)]
        }
    }

    static func platforms(_ platforms: [JSONValue]) -> String {
        var html = "<h2>Platforms</h2>\n"
        guard !platforms.isEmpty else { return html + "<p class=\"empty\">No platforms.</p>\n" }
        for platform in platforms {
            html += "<details class=\"platform\"><summary>\(HTML.escape(platform["scheme"]?.stringValue ?? "?")) \(HTML.escape(platform["path"]?.stringValue ?? "?")) <span class=\"digest\">\(HTML.escape(String((platform["hash"]?.stringValue ?? "").prefix(16))))</span></summary>\n<table class=\"pairs\"><tbody>\n"
            for group in ["env", "config"] {
                let pairs = platform[group]?.objectValue ?? [:]
                for key in pairs.keys.sorted() {
                    let value = pairs[key]?.stringValue ?? String(decoding: (pairs[key] ?? .null).encoded(pretty: false), as: UTF8.self)
                    html += "<tr><td>\(group)</td><td>\(HTML.escape(key))</td><td>\(HTML.escape(value))</td></tr>\n"
                }
            }
            html += "</tbody></table></details>\n"
        }
        return html
    }

    /// A plain GET form: the other runs by id, newest first.
    static func compareForm(_ id: String, others: [String], chosen: String?) -> String {
        guard !others.isEmpty else { return "" }
        var html = "<form method=\"get\" action=\"/run\" class=\"compare\"><input type=\"hidden\" name=\"dir\" value=\"\(HTML.escape(id))\">"
        html += "<label>Compare platforms with <select name=\"compare\">"
        for other in others.prefix(500) {
            html += "<option value=\"\(HTML.escape(other))\"\(other == chosen ? " selected" : "")>\(HTML.escape(other))</option>"
        }
        return html + "</select></label> <button type=\"submit\">Compare</button></form>\n"
    }

    static func stop(_ stop: JSONValue?) -> String {
        guard let stop, stop.objectValue != nil else { return "" }
        var html = "<h2>Stop sequence</h2>\n<p>\(HTML.escape(TimelineItem.detail(stop.objectValue ?? [:])))</p>\n<ol class=\"stop\">\n"
        for step in stop["steps"]?.arrayValue ?? [] {
            html += "<li>\(HTML.escape(String(printf: "%.3f s", step["time"]?.doubleValue ?? 0))) \(HTML.escape(TimelineItem.detail(step.objectValue ?? [:])))</li>\n"
        }
        return html + "</ol>\n"
    }

    static func mirror(_ report: JSONValue) -> String {
        let requests = report["mirror_requests"]?.arrayValue ?? []
        guard !requests.isEmpty else { return "" }
        var html = "<h2>Mirror requests</h2>\n<table class=\"mirror\"><thead><tr><th>Status</th><th>Path</th></tr></thead><tbody>\n"
        for request in requests.prefix(200) {
            html += "<tr><td>\(request["status"]?.intValue ?? 0)</td><td>\(HTML.escape(request["path"]?.stringValue ?? "?"))</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }
}
