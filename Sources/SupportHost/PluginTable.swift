import CPANMirror
import Discover
import Ping
import PluginAPI
import Test
import Watchdog

/// The plug-in table, read top to bottom, one row per plug-in (Rover's `plugs[]`).
///
/// Adding a plug-in is writing a module under `Sources/Plugins/` and adding one row here. Each
/// plug-in says which namespaces it answers for the run's configuration; the router sends a
/// request to the exact path that matches, else to the longest matching prefix, else the host
/// answers 404 itself.
public enum PluginTable {
    static let rows: [any Plugin.Type] = [
        PingPlugin.self,
        WatchdogPlugin.self,
        DiscoverPlugin.self,
        TestPlugin.self,
        CPANMirrorPlugin.self,
    ]
}

extension PluginTable {
    /// Every scheme verb of the table's plug-ins, in table order, with the plug-in offering it.
    public static var verbs: [(verb: Verb, plugin: String)] {
        rows.flatMap { row in row.verbs.map { (verb: $0, plugin: row.name) } }
    }

    /// The row whose plug-in offers `verb` (the first, in table order), if any.
    static func row(offering verb: String) -> (any Plugin.Type)? {
        rows.first { row in row.verbs.contains { $0.name == verb } }
    }

    /// The table as `support-host plugins` prints it.
    public static var listing: String {
        var lines = ["NAMESPACE                                PLUG-IN     HOOKS                        WHAT"]
        for row in rows {
            let hooks = Hook.allCases.filter { row.hooks.contains($0) }.map(\.rawValue).joined(separator: ",")
            lines.append(
                row.namespaceSummary.padding(toLength: 40, withPad: " ", startingAt: 0) + " "
                    + row.name.padding(toLength: 11, withPad: " ", startingAt: 0) + " "
                    + hooks.padding(toLength: 28, withPad: " ", startingAt: 0) + " " + row.summary)
        }
        lines.append("(any other path: 404 from the host)")
        lines.append("")
        lines.append("VERB       PLUG-IN     WHAT")
        for (verb, plugin) in verbs {
            let name = verb.name + (verb.argument.map { " " + $0 } ?? "")
            lines.append(name.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + plugin.padding(toLength: 11, withPad: " ", startingAt: 0) + " " + verb.summary)
        }
        return lines.joined(separator: "\n")
    }
}
