import FoundationEssentials
import PluginAPI
import SupportKit

/// One cell of the grid, read from its run directory alone.
public struct MatrixGridCell: Sendable, Equatable {
    public var index: Int
    public var dist: String
    public var guest: String
    public var grade: MatrixGrade
    public var reason: String
    /// The run's outcome (`completed`, `startup-timeout`, …); nil when it never ended.
    public var outcome: String?
    /// Seconds from the run's start to its end.
    public var duration: Double?
    public var platformHash: String?
    /// Relative to the output directory.
    public var runDirectory: String
    /// Earlier attempts set aside (interrupted, or retried).
    public var attempts: Int

    static func read(_ cell: MatrixCell, output: URL) async -> MatrixGridCell {
        let attempts = (try? FileManager.default.contentsOfDirectory(atPath: output.appendingPathComponent("attempts/" + cell.relativeDirectory).path))?.count ?? 0
        var graded = MatrixGridCell(
            index: cell.index, dist: cell.distName, guest: cell.guest.name, grade: .notRun, reason: "", outcome: nil, duration: nil,
            platformHash: nil, runDirectory: cell.relativeDirectory, attempts: attempts)
        switch await MatrixCellState.read(cell.directory(in: output)) {
        case .pending:
            graded.reason = "not run"
        case .unfinished:
            graded.reason = "started, never ended (runs again next time)"
        case .finished(let report):
            (graded.grade, graded.reason) = await MatrixGrade.of(report)
            graded.outcome = report["outcome"]?.stringValue
            graded.duration = report["duration"]?.doubleValue
            graded.platformHash = Self.platformHash(report)
        }
        return graded
    }

    /// The platform the test ran on: the first the run's report lists (its `platforms`).
    static func platformHash(_ report: JSONValue) -> String? {
        report["platforms"]?.arrayValue?.first?["hash"]?.stringValue
    }

    var json: JSONValue {
        [
            "cell": .int(Int64(index)), "dist": .string(dist), "guest": .string(guest), "grade": .string(grade.rawValue),
            "grade_reason": .string(reason), "outcome": outcome.map(JSONValue.string) ?? .null,
            "duration_seconds": duration.map(JSONValue.double) ?? .null, "platform_hash": platformHash.map(JSONValue.string) ?? .null,
            "run_dir": .string(runDirectory), "attempts": .int(Int64(attempts)),
        ]
    }
}

/// The results grid of a matrix: `matrix.json` and a plain-text table, both derived from the
/// cells' run directories alone (like a report from its journal), so `matrix report DIR`
/// rebuilds them at any time.
public struct MatrixGrid: Sendable {
    public var plan: MatrixPlan
    public var cells: [MatrixGridCell]

    public static func read(_ plan: MatrixPlan) async -> MatrixGrid {
        var cells: [MatrixGridCell] = []
        for cell in plan.cells { cells.append(await MatrixGridCell.read(cell, output: plan.outputURL)) }
        return MatrixGrid(plan: plan, cells: cells)
    }

    /// Reads the grid of the matrix in `output` (its `plan.json` says which cells it has).
    public static func read(output: String) async throws -> MatrixGrid {
        let plan = try await MatrixPlan.load(path: URL(fileURLWithPath: output).appendingPathComponent(MatrixOutput.planFile).path, check: false)
        return await read(plan)
    }

    public func count(_ grade: MatrixGrade) -> Int { cells.filter { $0.grade == grade }.count }

    public var json: JSONValue {
        var counts: [String: JSONValue] = [:]
        for grade in MatrixGrade.allCases { counts[grade == .notRun ? "not_run" : grade.rawValue] = .int(Int64(count(grade))) }
        return [
            "dists": .array(plan.dists.map { .string(lastPathComponent(of: $0)) }),
            "guests": .array(plan.guests.map { .string($0.name) }),
            "cells": .array(cells.map(\.json)), "counts": .object(counts), "output": .string(plan.output),
        ]
    }

    /// Dist rows × guest columns.
    public var table: String {
        let distNames = plan.dists.map { lastPathComponent(of: $0) }
        let first = max(4, distNames.map(\.count).max() ?? 0)
        let widths = plan.guests.map { max($0.name.count, 7) }
        func row(_ head: String, _ items: [String]) -> String {
            var line = ([TextTable.padded(head, to: first)] + zip(items, widths).map { TextTable.padded($0, to: $1) }).joined(separator: "  ")
            while line.last?.isWhitespace == true { line.removeLast() }
            return line
        }
        var lines = [row("DIST", plan.guests.map(\.name))]
        for (number, name) in distNames.enumerated() {
            lines.append(row(name, (0..<plan.guests.count).map { cells[number * plan.guests.count + $0].grade.rawValue }))
        }
        let summary = MatrixGrade.allCases.compactMap { grade -> String? in
            let n = count(grade)
            return n == 0 ? nil : "\(n) \(grade == .notRun ? "not run" : grade.rawValue)"
        }
        lines.append("")
        lines.append("\(cells.count) cell\(cells.count == 1 ? "" : "s"): " + summary.joined(separator: ", "))
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `matrix.json` and `matrix.txt` into the output directory (each replaced whole).
    public func write() throws {
        let output = plan.outputURL
        try json.encoded(pretty: true).write(to: output.appendingPathComponent("matrix.json"), options: .atomic)
        try Data(table.utf8).write(to: output.appendingPathComponent("matrix.txt"), options: .atomic)
    }
}

/// The files of a matrix's output directory besides its cells.
public enum MatrixOutput {
    /// The plan as the matrix runs it, paths absolute: what `run-cell` and `report` read.
    public static let planFile = "plan.json"

    /// Writes the plan into its output directory, or checks it is the plan already there
    /// (a rerun resumes; another plan would mix two matrices' cells).
    public static func adopt(_ plan: MatrixPlan) throws {
        let output = plan.outputURL
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let file = output.appendingPathComponent(planFile)
        if let data = try? Data(contentsOf: file), let existing = try? JSONValue.decode(data) {
            let mine = plan.json
            guard existing["dists"] == mine["dists"], existing["guests"] == mine["guests"] else {
                throw MatrixRunError.otherPlan(output.path)
            }
        }
        try plan.json.encoded(pretty: true).write(to: file, options: .atomic)
    }
}
