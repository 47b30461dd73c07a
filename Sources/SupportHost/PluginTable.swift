import SupportHostCPANMirror
import SupportHostDiscover
import SupportHostEcho
import SupportHostPing
import SupportHostSync
import PluginAPI
import SupportHostTest
import SupportHostWatchdog

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
        EchoPlugin.self,
        SyncPlugin.self,
    ]
}

extension PluginTable {
    /// The plug-in serving directory mirrors, whose request records `JournalFiller` writes for
    /// the recovery benchmark.
    static let mirrorSource = CPANMirrorPlugin.name

    /// Every scheme verb of the table's plug-ins, in table order, with the plug-in offering it.
    public static var verbs: [(verb: Verb, plugin: String)] {
        rows.flatMap { row in row.verbs.map { (verb: $0, plugin: row.name) } }
    }

    /// Creates a row's plug-in; a `PluginError` it throws becomes the job's refusal, naming it.
    static func make(_ row: any Plugin.Type, context: any HostContext) throws -> any Plugin {
        do {
            return try row.init(context: context)
        } catch let error as PluginError {
            throw JobError.plugin(name: row.name, problem: error.description)
        }
    }

    /// The row whose plug-in offers `verb` (the first, in table order), if any.
    static func row(offering verb: String) -> (any Plugin.Type)? {
        rows.first { row in row.verbs.contains { $0.name == verb } }
    }

    /// The table as `support-host plugins` prints it: columns as wide as their widest cell.
    public static var listing: String {
        let namespaces = TextTable(header: ["NAMESPACE", "PLUG-IN", "HOOKS", "WHAT"], rows: rows.map { row in
            [row.namespaceSummary, row.name, Hook.allCases.filter { row.hooks.contains($0) }.map(\.rawValue).joined(separator: ","), row.summary]
        })
        let verbRows = TextTable(header: ["VERB", "PLUG-IN", "WHAT"], rows: verbs.map { verb, plugin in
            [verb.name + (verb.argument.map { " " + $0 } ?? ""), plugin, verb.summary]
        })
        return namespaces.text + "\n(any other path: 404 from the host)\n\n" + verbRows.text
    }
}
