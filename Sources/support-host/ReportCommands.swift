import ArgumentParser
import FoundationEssentials
import PluginAPI
import SupportHost
import SupportKit

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Print a finished run's report.")

    @Argument(help: "The run directory.")
    var runDir: String

    @Flag(help: "Print report.json as it is.")
    var json = false

    func run() async throws {
        let directory = try existingRunDirectory(runDir)
        guard let data = try? Data(contentsOf: directory.report), let report = try? JSONValue.decode(data) else {
            throw fail("\(runDir) has a journal but no readable report.json: its host is still running or died; if it died, support-host recover \(runDir) writes the report", code: 66)
        }
        if json {
            print(String(decoding: report.encoded(pretty: true), as: UTF8.self))
        } else {
            print(ReportText.render(report))
        }
    }
}

struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Rebuild a run's report from its journal after a host crash.")

    @Argument(help: "The run directory.")
    var runDir: String

    func run() async throws {
        let directory = try existingRunDirectory(runDir)
        let result = try await Recovery.recover(directory)
        print("recovered \(plural(result.records, "record")); dropped \(plural(result.droppedBytes, "byte")) of torn tail" + (result.problem.map { " (\($0))" } ?? ""))
        print("outcome: \(result.outcome)")
        print("report: \(directory.report.path)")
    }
}

/// The run directory named on the command line, or a message saying why it is not one.
func existingRunDirectory(_ path: String) throws -> RunDirectory {
    var isDirectory = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw fail("\(path) does not exist", code: 66)
    }
    guard isDirectory else { throw fail("\(path) is a file, not a run directory", code: 66) }
    let directory = RunDirectory(url: URL(fileURLWithPath: path))
    guard FileManager.default.fileExists(atPath: directory.journal.path) else {
        throw fail("\(path) is not a run directory (it has no journal.log)", code: 66)
    }
    return directory
}

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plugins", abstract: "Print the plug-in table.")

    func run() {
        print(PluginTable.listing)
    }
}

/// How many console lines each view shows.
enum ConsoleTailText {
    static let reportLines = 20
    static let runEndLines = 20
}

/// A report for a person.
enum ReportText {
    static func render(_ report: JSONValue) -> String {
        var lines: [String] = []
        let outcome = "\(report["outcome"]?.stringValue ?? "?") (exit \(report["exit_code"]?.intValue ?? -1))"
        if let grade = report["grade"]?.stringValue {
            // A test has two results: how the run ended and what the dist's tests said.
            let reason = report["grade_reason"]?.stringValue.map { ": \($0)" } ?? ""
            lines.append("outcome:  run \(outcome) · grade \(grade)\(reason)")
            let failing = report["failing_tests"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if !failing.isEmpty { lines.append("failing:  \(failing.joined(separator: " "))") }
        } else {
            lines.append("outcome:  \(outcome)")
        }
        if let line = report["line"]?.stringValue { lines.append("          \(line)") }
        if let command = report["command"]?.arrayValue, !command.isEmpty { lines.append("command:  \(command.compactMap(\.stringValue).joined(separator: " "))") }
        if let guests = report["guests"]?.arrayValue {
            lines += guests.map(guestLine)
        } else if let guest = report["guest"]?.objectValue, let pid = guest["pid"]?.intValue {
            let end = guest["exit_status"].map { "exit status \($0.intValue ?? -1)" } ?? guest["signal_name"]?.stringValue ?? "end unknown"
            lines.append("guest:    pid \(pid), \(end)")
        } else {
            lines.append("guest:    not launched")
        }
        let timeline = report["timeline"]?.arrayValue ?? []
        let event = { (name: String) in timeline.first { $0["event"]?.stringValue == name } }
        if report["guests"] != nil {
            // Each guest's start is on its own line above.
        } else if let started = event("guest-started") {
            lines.append("started:  yes, first ping \(started["after"]?.doubleValue.map { String(printf: "%.2f s", $0) } ?? "?") after launch")
        } else if let late = event("late-ping") {
            lines.append("started:  no (a ping came \(late["after"]?.doubleValue.map { String(printf: "%.2f s", $0) } ?? "?") after launch, during the stop: too late)")
        } else {
            lines.append("started:  no ping")
        }
        lines.append("timeline:")
        for item in report["timeline"]?.arrayValue ?? [] {
            let time = String(printf: "%8.3f", item["time"]?.doubleValue ?? 0)
            let detail = ["guest", "pid", "path", "cause", "step", "exit_status", "signal_name", "outcome", "url", "detail"]
                .compactMap { key in item[key].map { "\(key)=\(describe($0))" } }.joined(separator: " ")
            lines.append("  \(time)s  \(item["event"]?.stringValue ?? "?")  \(detail)")
        }
        let results = report["results"]?.arrayValue ?? []
        lines.append("results:  \(results.count)")
        for result in results {
            lines.append("  \(result["path"]?.stringValue ?? "?") → \(result["file"]?.stringValue ?? "?") (\(result["size"]?.intValue ?? 0) bytes, sha256 \(result["sha256"]?.stringValue ?? "?"))")
            if let summary = result["pita_report"] {
                for test in summary["tests"]?.arrayValue ?? [] {
                    let counts = test["passed"]?.intValue.map { ", \($0) passed, \(test["failed"]?.intValue ?? 0) failed" } ?? ""
                    lines.append("    test \(test["name"]?.stringValue ?? "?"): exit \(describe(test["exit_code"] ?? .null))\(counts)")
                    lines += stepDetail(test)
                }
                for command in summary["commands"]?.arrayValue ?? [] {
                    lines.append("    command \(command["cmd"]?.stringValue ?? "?"): exit \(describe(command["exit_code"] ?? .null))")
                    lines += stepDetail(command)
                }
            }
        }
        for upload in report["incomplete_uploads"]?.arrayValue ?? [] {
            lines.append("  incomplete: \(upload["path"]?.stringValue ?? "?") has \(upload["received"]?.stringValue ?? "") of \(upload["total"]?.intValue ?? 0) bytes")
        }
        let platforms = report["platforms"]?.arrayValue ?? []
        lines.append("platforms: \(platforms.count)")
        for platform in platforms {
            lines.append("  \(platform["scheme"]?.stringValue ?? "?") \(platform["path"]?.stringValue ?? "?") hash \(platform["hash"]?.stringValue ?? "?")")
        }
        let mirror = report["mirror_requests"]?.arrayValue ?? []
        let totals = report["mirror_totals"]
        let byStatus = (totals?["by_status"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.intValue ?? 0)" }
        // report.json lists only the first requests of a long run; the totals count them all.
        let count = totals?["count"]?.intValue.map(Int.init) ?? mirror.count
        lines.append("mirror requests: \(count)" + (byStatus.isEmpty ? "" : " (\(byStatus.joined(separator: ", ")); \(totals?["bytes_served"]?.intValue ?? 0) bytes served)"))
        for request in mirror.prefix(20) {
            lines.append("  \(request["method"]?.stringValue ?? "") \(request["path"]?.stringValue ?? "") → \(request["status"]?.intValue ?? 0) (\(request["bytes_out"]?.intValue ?? 0) bytes)")
        }
        if count > mirror.count {
            lines.append("  … \(count - min(mirror.count, 20)) more (report.json lists the first \(mirror.count))")
        } else if mirror.count > 20 {
            lines.append("  … \(mirror.count - 20) more in report.json")
        }
        let why = whyLines(report, consoleLines: ConsoleTailText.reportLines)
        if !why.isEmpty { lines += [""] + why }
        return lines.joined(separator: "\n")
    }

    /// What a person needs to see when a run went wrong: the requests the host refused (with
    /// what was expected instead) and the last lines of the guest's console. Empty for a run
    /// that completed with no refused request.
    static func whyLines(_ report: JSONValue, consoleLines: Int) -> [String] {
        var lines: [String] = []
        let refused = report["refused_requests"]?.arrayValue ?? []
        let total = report["refused_requests_total"]?.intValue ?? Int64(refused.count)
        if total > 0 {
            lines.append("requests answered with an error: \(total)" + (total > refused.count ? " (the first \(refused.count) below)" : ""))
            for request in refused {
                let head = "  " + (request["guest"]?.stringValue.map { "[\($0)] " } ?? "") + "\(request["method"]?.stringValue ?? "?") \(request["path"]?.stringValue ?? "?") → \(request["status"]?.intValue ?? 0)"
                let why = request["hint"]?.stringValue ?? request["reason"]?.stringValue
                lines.append(head + (why.map { ": \($0)" } ?? ""))
            }
        }
        let completed = report["outcome"]?.stringValue == Outcome.completed.rawValue
        for guest in report["guests"]?.arrayValue ?? [] where !completed && guest["pid"] != nil {
            let console = guest["console_tail"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let name = guest["name"]?.stringValue ?? "?"
            let path = guest["console_log"]?.stringValue ?? "console-\(name).log"
            guard !console.isEmpty else {
                lines.append("guest \(name)'s console (\(path)) is empty")
                continue
            }
            let shown = console.suffix(consoleLines)
            lines.append("guest \(name)'s console, last \(plural(shown.count, "line")) (all of it in \(path)):")
            lines += shown.map { "  | \($0)" }
        }
        let console = report["console_tail"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !completed, report["guest"]?["pid"] != nil {
            let path = report["console_log"]?.stringValue ?? "console.log"
            if console.isEmpty {
                lines.append("the guest's console (\(path)) is empty")
            } else {
                let shown = console.suffix(consoleLines)
                lines.append("the guest's console, last \(plural(shown.count, "line")) (all of it in \(path)):")
                lines += shown.map { "  | \($0)" }
            }
        }
        return lines
    }

    /// One guest of a run of several: its name, role, pid, start and end.
    private static func guestLine(_ guest: JSONValue) -> String {
        var words = ["guest \(guest["name"]?.stringValue ?? "?"):"]
        if let role = guest["role"]?.stringValue { words.append("role \(role),") }
        if guest["essential"] == false { words.append("not essential,") }
        if let pid = guest["pid"]?.intValue { words.append("pid \(pid),") } else { words.append("not launched,") }
        if let after = guest["started_after"]?.doubleValue { words.append(String(printf: "started after %.2f s,", after)) } else { words.append("no ping,") }
        let exit = guest["exit"]
        words.append(exit?["exit_status"]?.intValue.map { "exit status \($0)" } ?? exit?["signal_name"]?.stringValue ?? (exit == nil ? "still running" : "end unknown"))
        if let failed = guest["failed"]?.stringValue { words.append("(failed: \(failed))") }
        return words.joined(separator: " ")
    }

    /// A failed step's `not ok` lines (with diagnostics) and the end of its stderr.
    private static func stepDetail(_ step: JSONValue) -> [String] {
        let failures = step["failures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let stderr = step["stderr_tail"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return failures.flatMap { $0.split(separator: "\n").map { "      " + $0 } } + stderr.map { "      stderr | " + $0 }
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .bool(let flag): return String(flag)
        default: return String(decoding: value.encoded(pretty: false), as: UTF8.self)
        }
    }
}
