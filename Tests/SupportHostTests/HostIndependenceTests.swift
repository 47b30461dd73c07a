import Foundation
import Testing

@testable import SupportHost

/// The host knows no plug-in by name outside the plug-in table: no plug-in's name, class,
/// record kind or file name appears in the host's or the CLI's sources, so that every plug-in
/// gets the same hooks and looks after its own records and files.
struct HostIndependenceTests {
    /// Record kinds and file names that belong to a built-in plug-in.
    static let pluginWords = [
        "\"ping\"", "\"result-stored\"", "\"piece-stored\"", "\"result-summary\"", "\"platform\"", "\"extended\"",
        "\"echoed\"", ".partial-", "inline_base64",
    ]

    static var sourceRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Every Swift file of the host and the CLI but the table itself, with its text.
    static func hostSources() throws -> [(path: String, text: String)] {
        var files: [(String, String)] = []
        for directory in ["Sources/SupportHost", "Sources/support-host"] {
            let root = sourceRoot.appendingPathComponent(directory)
            let enumerator = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
            for case let url as URL in enumerator where url.pathExtension == "swift" && url.lastPathComponent != "PluginTable.swift" {
                files.append((directory + "/" + url.path.dropFirst(root.path.count + 1), try String(contentsOf: url, encoding: .utf8)))
            }
        }
        return files
    }

    @Test func noPluginIsNamedOutsideTheTable() throws {
        let words = PluginTable.rows.flatMap { row in ["\"\(row.name)\"", "\(String(describing: row))"] } + Self.pluginWords
        var found: [String] = []
        let sources = try Self.hostSources()
        #expect(sources.count > 20)
        for (path, text) in sources {
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for word in words where line.contains(word) { found.append("\(path):\(number + 1): \(word)") }
            }
        }
        #expect(found.isEmpty, "the host names a plug-in or its records: \(found.joined(separator: "; "))")
    }
}
