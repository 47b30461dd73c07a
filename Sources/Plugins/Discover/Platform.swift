import Crypto
import Foundation
import PluginAPI

/// What one testing context looks like inside the guest: a scheme and a path, plus key/value
/// pairs (environment, configuration).
struct Platform: Sendable, Equatable {
    var scheme: String
    var path: String
    var env: [String: String]
    var config: [String: String]

    /// SHA-256 over the canonical form: one `section.key=value` line per pair, sorted bytewise,
    /// with `scheme` and `path` first. The same platform always hashes the same.
    var hash: String {
        var lines = ["scheme=\(scheme)", "path=\(path)"]
        lines += env.map { "env.\($0.key)=\($0.value)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        lines += config.map { "config.\($0.key)=\($0.value)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let canonical = lines.map { $0.replacingOccurrences(of: "\n", with: "\\n") }.joined(separator: "\n") + "\n"
        return SHA256.hash(data: Data(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    var fields: [String: JSONValue] {
        [
            "scheme": .string(scheme), "path": .string(path), "hash": .string(hash),
            "env": .object(env.mapValues { .string($0) }), "config": .object(config.mapValues { .string($0) }),
        ]
    }

    init(scheme: String, path: String, env: [String: String], config: [String: String]) {
        self.scheme = scheme
        self.path = path
        self.env = env
        self.config = config
    }

    init?(fields: [String: JSONValue]) {
        guard let scheme = fields["scheme"]?.stringValue, let path = fields["path"]?.stringValue else { return nil }
        self.init(
            scheme: scheme, path: path,
            env: (fields["env"]?.objectValue ?? [:]).compactMapValues(\.stringValue),
            config: (fields["config"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
    }
}
