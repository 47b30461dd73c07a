import ArgumentParser
import Foundation
import PluginAPI
import SupportHost

struct PlatformsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platforms", abstract: "Compare the platforms runs reported.", subcommands: [PlatformsDiffCommand.self])
}

struct PlatformsDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show which platform pairs differ between two runs.",
        discussion: """
            Platforms are matched by scheme and path. Prints one line per difference: a platform \
            only in one run, or a pair (env.KEY, config.KEY) added, removed or changed. Exits 0 when \
            every platform hashes the same in both runs, 1 when any differs.
            """)

    @Argument(help: "The first run directory.")
    var runA: String

    @Argument(help: "The second run directory.")
    var runB: String

    func run() async throws {
        let a = try Self.platforms(of: runA)
        let b = try Self.platforms(of: runB)
        let lines = PlatformDiff.lines(a, b)
        if lines.isEmpty {
            print("same platforms (\(a.count)) in both runs")
        } else {
            print("--- \(runA)\n+++ \(runB)")
            lines.forEach { print($0) }
            throw ExitCode(1)
        }
    }

    static func platforms(of runDir: String) throws -> [JSONValue] {
        let directory = RunDirectory(url: URL(fileURLWithPath: runDir))
        guard let data = try? Data(contentsOf: directory.report), let report = try? JSONValue.decode(data) else {
            throw fail("no readable report.json in \(runDir)", code: 66)
        }
        return report["platforms"]?.arrayValue ?? []
    }
}

/// The differences between two runs' platforms, for a person.
enum PlatformDiff {
    static func lines(_ a: [JSONValue], _ b: [JSONValue]) -> [String] {
        let left = byContext(a)
        let right = byContext(b)
        var lines: [String] = []
        for context in Set(left.keys).union(right.keys).sorted() {
            switch (left[context], right[context]) {
            case (let old?, nil): lines.append("- platform \(context) (hash \(old["hash"]?.stringValue ?? "?"))")
            case (nil, let new?): lines.append("+ platform \(context) (hash \(new["hash"]?.stringValue ?? "?"))")
            case (let old?, let new?) where old["hash"] != new["hash"]:
                lines.append("~ platform \(context): hash \(old["hash"]?.stringValue ?? "?") → \(new["hash"]?.stringValue ?? "?")")
                let oldPairs = pairs(old)
                let newPairs = pairs(new)
                for key in Set(oldPairs.keys).union(newPairs.keys).sorted() {
                    switch (oldPairs[key], newPairs[key]) {
                    case (let x?, nil): lines.append("    - \(key)=\(quote(x))")
                    case (nil, let y?): lines.append("    + \(key)=\(quote(y))")
                    case (let x?, let y?) where x != y: lines.append("    ~ \(key): \(quote(x)) → \(quote(y))")
                    default: break
                    }
                }
            default: break
            }
        }
        return lines
    }

    private static func byContext(_ platforms: [JSONValue]) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for platform in platforms {
            result["\(platform["scheme"]?.stringValue ?? "?") \(platform["path"]?.stringValue ?? "?")"] = platform
        }
        return result
    }

    private static func pairs(_ platform: JSONValue) -> [String: String] {
        var result: [String: String] = [:]
        for section in ["env", "config"] {
            for (key, value) in platform[section]?.objectValue ?? [:] { result["\(section).\(key)"] = value.stringValue ?? "" }
        }
        return result
    }

    private static func quote(_ text: String) -> String {
        let clipped = text.count > 200 ? String(text.prefix(200)) + "…" : text
        return "\"" + clipped.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
