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
        return lines.joined(separator: "\n")
    }
}
