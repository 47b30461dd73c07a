import FoundationEssentials

/// `/matrix?dir=ID`: the grid, one row per dist and one column per guest, each cell's colour
/// and text its grade and a link to its run page. While cells run, web.js follows
/// `/matrix-events` and repaints the cells that change.
enum MatrixPage {
    static func render(_ view: MatrixView) -> String {
        let name = view.id == "." ? "this directory" : view.id
        var body = "<h1>Matrix <span class=\"run-id\">\(HTML.escape(name))</span></h1>\n"
        guard !view.cells.isEmpty else { return HTML.page(title: "Matrix", body: body + "<p class=\"empty\">No cells yet.</p>") }
        var counts: [String: Int] = [:]
        for cell in view.cells { counts[cell.text, default: 0] += 1 }
        body += "<p class=\"counts\">\(view.cells.count) cells: " + counts.keys.sorted().map { "\(counts[$0]!) \(HTML.escape($0))" }.joined(separator: ", ") + "</p>\n"
        body += "<table class=\"grid\"><thead><tr><th>Dist</th>"
        for guest in view.guests { body += "<th>\(HTML.escape(guest))</th>" }
        body += "</tr></thead><tbody>\n"
        for (row, dist) in view.dists.enumerated() {
            body += "<tr><th>\(HTML.escape(dist))</th>"
            for column in view.guests.indices {
                body += cellHTML(view.cells[row * view.guests.count + column])
            }
            body += "</tr>\n"
        }
        body += "</tbody></table>\n"
        if view.isLive {
            let events = "/matrix-events?dir=" + HTML.queryComponent(view.id)
            body += "<p id=\"live\" class=\"live\" data-events=\"\(HTML.escape(events))\">live: following the matrix</p>\n"
        }
        return HTML.page(title: "Matrix \(name)", body: body, script: view.isLive)
    }

    static func cellHTML(_ cell: MatrixView.Cell) -> String {
        let href = cell.runID.map { "/run?dir=" + HTML.queryComponent($0) } ?? "#"
        return "<td id=\"cell-\(cell.index)\" class=\"cell \(cell.cssClass)\"><a href=\"\(HTML.escape(href))\" title=\"\(HTML.escape(cell.title))\">\(HTML.escape(cell.text))</a></td>"
    }
}
