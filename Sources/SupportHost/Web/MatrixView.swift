import FoundationEssentials
import PluginAPI
import SupportKit

/// A matrix output directory as a dists × guests grid (the layout of the matrix branch:
/// `plan.json`, `matrix.json`, one run directory per cell in `cells/<dist>/<guest>`). Rows
/// and columns come from `matrix.json`, else `plan.json`, else the `cells/` folders; each
/// cell's state is read from its run directory at the time of asking, so the grid is live.
/// Kept apart from everything else so the matrix branch can replace the reading with its own.
struct MatrixView {
    struct Cell: Equatable {
        let index: Int
        let dist: String
        let guest: String
        /// Relative to the served directory; nil when the cell has no run directory yet.
        let runID: String?
        /// The grade, `running`, an outcome, or `-` (not run).
        let text: String
        let title: String

        var cssClass: String { WebWords.gradeClass(text) }
    }

    let id: String
    let dists: [String]
    let guests: [String]
    let cells: [Cell]

    var isLive: Bool { cells.contains { $0.text == "running" || $0.text == "-" } }

    /// Whether `url` looks like a matrix output directory.
    static func isMatrix(_ url: URL) -> Bool {
        let manager = FileManager.default
        return ["matrix.json", "plan.json"].contains { manager.fileExists(atPath: url.appendingPathComponent($0).path) }
            || (manager.fileExists(atPath: url.appendingPathComponent("cells").path) && !manager.fileExists(atPath: url.appendingPathComponent("journal.log").path))
    }

    /// Matrix directories at most two levels under `root` (ids relative to it).
    static func find(under root: URL, index: RunIndex) -> [String] {
        var found: [String] = []
        func visit(_ url: URL, depth: Int) {
            if isMatrix(url) { found.append(index.relativeID(url)) }
            guard depth > 0 else { return }
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() where !name.hasPrefix(".") && name != "cells" {
                var isDirectory = false
                let child = url.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory), isDirectory,
                    !FileManager.default.fileExists(atPath: child.appendingPathComponent("journal.log").path)
                {
                    visit(child, depth: depth - 1)
                }
            }
        }
        visit(root, depth: 2)
        return found
    }

    static func read(id: String, url: URL, index: RunIndex) -> MatrixView {
        let grid = (try? Data(contentsOf: url.appendingPathComponent("matrix.json"))).flatMap { try? JSONValue.decode($0) }
        let plan = (try? Data(contentsOf: url.appendingPathComponent("plan.json"))).flatMap { try? JSONValue.decode($0) }
        var dists: [String] = []
        var guests: [String] = []
        var recorded: [String: JSONValue] = [:]  // matrix.json's cells by run directory
        if let grid {
            dists = grid["dists"]?.arrayValue?.compactMap(\.stringValue) ?? []
            guests = grid["guests"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for cell in grid["cells"]?.arrayValue ?? [] { if let dir = cell["run_dir"]?.stringValue { recorded[dir] = cell } }
        } else if let plan {
            dists = plan["dists"]?.arrayValue?.compactMap(\.stringValue).map { lastPathComponent(of: $0) } ?? []
            guests = plan["guests"]?.arrayValue?.compactMap { $0.stringValue ?? $0["name"]?.stringValue } ?? []
        } else {
            let cells = url.appendingPathComponent("cells")
            dists = Self.folders(cells)
            guests = Array(Set(dists.flatMap { Self.folders(cells.appendingPathComponent(Self.slug($0))) })).sorted()
        }
        var cells: [Cell] = []
        for (row, dist) in dists.enumerated() {
            for (column, guest) in guests.enumerated() {
                let relative = "cells/\(slug(dist))/\(slug(guest))"
                let directory = url.appendingPathComponent(relative)
                let runID = FileManager.default.fileExists(atPath: directory.appendingPathComponent("journal.log").path) ? index.relativeID(directory) : nil
                let (text, title) = state(directory, recorded: recorded[relative])
                cells.append(Cell(index: row * guests.count + column, dist: dist, guest: guest, runID: runID, text: text, title: title))
            }
        }
        return MatrixView(id: id, dists: dists, guests: guests, cells: cells)
    }

    /// A cell's text and tooltip, from its run directory: the report's grade, else the grade
    /// `matrix.json` gave the same outcome, else the matrix's own grading of a completed run
    /// (`CellGrade`), else the outcome; `running` while it has none.
    static func state(_ directory: URL, recorded: JSONValue?) -> (String, String) {
        let run = RunDirectory(url: directory)
        guard FileManager.default.fileExists(atPath: run.journal.path) else { return ("-", "not run") }
        guard let data = try? Data(contentsOf: run.report), let report = try? JSONValue.decode(data) else { return ("running", "running") }
        let outcome = report["outcome"]?.stringValue ?? "unknown"
        let line = report["line"]?.stringValue ?? outcome
        if let grade = report["grade"]?.stringValue { return (grade, line) }
        if let recorded, recorded["outcome"]?.stringValue == outcome, let grade = recorded["grade"]?.stringValue, grade != "-" {
            return (grade, recorded["grade_reason"]?.stringValue ?? line)
        }
        guard outcome == "completed" else { return (outcome, line) }
        let (grade, reason) = CellGrade.of(report, file: run.report)
        return (grade, reason.isEmpty ? line : reason)
    }

    /// The matrix branch's directory name for a dist or guest.
    static func slug(_ name: String) -> String {
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        return safe.isEmpty || safe == "." || safe == ".." ? "_" + safe : safe
    }

    private static func folders(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
}
