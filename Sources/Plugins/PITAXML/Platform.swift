import Crypto
import FoundationEssentials
import PluginAPI
import SupportKit

/// What one testing context looks like inside the guest: a scheme (`perl5`) and a path
/// (`/usr/bin/perl`), plus key/value pairs (environment, configuration) — PITA's
/// `PITA::XML::Platform`.
public struct Platform: Sendable, Equatable {
    public var scheme: String
    public var path: String
    public var env: [String: String]
    public var config: [String: String]

    public init(scheme: String, path: String, env: [String: String] = [:], config: [String: String] = [:]) {
        self.scheme = scheme
        self.path = path
        self.env = env
        self.config = config
    }

    /// The canonical form the hash is taken over (docs/readme-capture.md describes it):
    ///
    ///     support-host-platform-v1
    ///     scheme<TAB>perl5
    ///     path<TAB>/usr/bin/perl
    ///     env<TAB>KEY<TAB>VALUE       one line per pair, sorted by the bytes of KEY
    ///     config<TAB>KEY<TAB>VALUE    likewise
    ///
    /// Every string is Unicode NFC (Swift compares canonically equivalent strings as equal, so
    /// the hash must too) and escaped: `\` → `\\`, tab → `\t`, line feed → `\n`, carriage return
    /// → `\r`. Tabs and line feeds then only ever separate fields, so two different platforms
    /// never share a canonical form. Each line ends with a line feed; the text is UTF-8.
    public var canonicalForm: String {
        var lines = ["support-host-platform-v1", "scheme\t" + Self.escape(scheme), "path\t" + Self.escape(path)]
        for (section, pairs) in [("env", env), ("config", config)] {
            let escaped = pairs.map { (Self.escape($0.key), Self.escape($0.value)) }
                .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
            lines += escaped.map { "\(section)\t\($0.0)\t\($0.1)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The hex SHA-256 of `canonicalForm`: the same platform always hashes the same, and any
    /// difference in scheme, path, a key or a value changes it.
    public var hash: String {
        hexEncoded(SHA256.hash(data: Data(canonicalForm.utf8)))
    }

    static func escape(_ text: String) -> String {
        var out = ""
        // NFC by the standard library's normaliser (the one String comparison uses), not
        // Foundation's `precomposedStringWithCanonicalMapping`, which needs ICU (issue 18).
        for scalar in String(decoding: text._nfcCodeUnits, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The platform as a journal record and a `report.json` entry.
    public var fields: [String: JSONValue] {
        [
            "scheme": .string(scheme), "path": .string(path), "hash": .string(hash),
            "env": .object(env.mapValues { .string($0) }), "config": .object(config.mapValues { .string($0) }),
        ]
    }

    /// Reads a platform back from its journal record.
    public init?(fields: [String: JSONValue]) {
        guard let scheme = fields["scheme"]?.stringValue, let path = fields["path"]?.stringValue else { return nil }
        self.init(
            scheme: scheme, path: path,
            env: (fields["env"]?.objectValue ?? [:]).compactMapValues(\.stringValue),
            config: (fields["config"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
    }
}
