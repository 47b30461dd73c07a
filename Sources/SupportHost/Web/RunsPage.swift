import FoundationEssentials

/// `/`: every run under the served directory, newest first, filtered by outcome (`?outcome=`,
/// `running` for runs without one), and links to the matrices found there.
enum RunsPage {
    static func render(_ summaries: [ServedRun], filter: String?, matrices: [String]) -> String {
        let shown = summaries.filter { filter == nil || filter == "" || $0.state == filter }
        let states = Set(summaries.map(\.state)).sorted()
        var body = "<h1>Runs</h1>\n"
        if !matrices.isEmpty {
            body += "<p class=\"matrices\">Matrices: " + matrices.map { id in
                "<a href=\"/matrix?dir=\(HTML.escape(HTML.queryComponent(id)))\">\(HTML.escape(id == "." ? "this directory" : id))</a>"
            }.joined(separator: ", ") + "</p>\n"
        }
        body += "<form method=\"get\" action=\"/\" class=\"filter\"><label>Outcome <select name=\"outcome\">"
        body += "<option value=\"\">all (\(summaries.count))</option>"
        for state in states {
            let count = summaries.filter { $0.state == state }.count
            body += "<option value=\"\(HTML.escape(state))\"\(state == filter ? " selected" : "")>\(HTML.escape(state)) (\(count))</option>"
        }
        body += "</select></label> <button type=\"submit\">Filter</button></form>\n"
        guard !shown.isEmpty else {
            return HTML.page(title: "Runs", body: body + "<p class=\"empty\">No runs\(filter.map { " with outcome " + HTML.escape($0) } ?? "").</p>")
        }
        body += "<table class=\"runs\">\n<thead><tr><th>Started (UTC)</th><th>Outcome</th><th>Grade</th><th>Duration</th><th>Results</th><th>Guest</th><th>Command</th><th>Run</th></tr></thead>\n<tbody>\n"
        for run in shown {
            let href = "/run?dir=" + HTML.queryComponent(run.id)
            let stateClass = run.outcome == nil ? "g-running" : (run.outcome == "completed" ? "g-done" : "g-error")
            body += "<tr><td>\(HTML.escape(WebWords.wall(run.started)))</td>"
            body += "<td class=\"state \(stateClass)\">\(HTML.escape(run.state))</td>"
            body += "<td class=\"\(run.grade.map(WebWords.gradeClass) ?? "")\">\(HTML.escape(run.grade ?? "-"))</td>"
            body += "<td>\(HTML.escape(WebWords.duration(run.duration)))</td><td>\(run.results)</td>"
            body += "<td>\(HTML.escape(run.guestKind))</td>"
            body += "<td class=\"command\">\(HTML.escape(String(run.command.prefix(120))))</td>"
            body += "<td><a href=\"\(HTML.escape(href))\">\(HTML.escape(run.id))</a></td></tr>\n"
        }
        body += "</tbody>\n</table>\n"
        return HTML.page(title: "Runs", body: body)
    }
}
