import PluginAPI

/// The platforms of a run, one per testing context (scheme and path): a later description of
/// the same context replaces the earlier one.
public struct PlatformSet: Sendable {
    private var byContext: [String: [String: JSONValue]] = [:]

    public init() {}

    /// Adds a platform with the fields it was journaled with.
    public mutating func insert(_ platform: Platform, fields: [String: JSONValue]) {
        byContext["\(platform.scheme)\u{0}\(platform.path)"] = fields
    }

    /// The platforms as `report.json` entries, sorted by scheme, then path.
    public var all: [JSONValue] {
        byContext.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { .object($0.value) }
    }

    public var isEmpty: Bool { byContext.isEmpty }
}
