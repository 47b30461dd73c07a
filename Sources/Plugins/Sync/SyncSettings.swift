import PluginAPI

/// The Sync plug-in's settings (`plugins.Sync` in the job, `--set Sync.KEY=VALUE`), read and
/// checked once in `init(context:)`: a bad one refuses the run (exit 64) before it starts.
struct SyncSettings: Sendable, Equatable {
    static let keys: Set<String> = ["timeout", "max_timeout", "max_names", "max_waits_per_guest", "max_event_bytes"]

    /// A wait's timeout when the request gives no `?timeout=`, in seconds. Beaker's sync has
    /// none by default and a dead peer then holds its waiters for ever: ours always has one.
    var timeout: Double = 600
    /// The cap on `?timeout=`: a guest cannot ask for a longer wait.
    var maxTimeout: Double = 3600
    /// How many barriers, mutexes and events (each kind counted on its own) a run may name.
    var maxNames = 1000
    /// How many waits one guest may have under way at once (a retry while the first still
    /// waits is one more).
    var maxWaitsPerGuest = 16
    /// The largest event body, in bytes.
    var maxEventBytes = 64 * 1024

    init() {}

    init(_ settings: PluginSettings) throws {
        try settings.allowOnly(Self.keys)
        maxTimeout = try Self.seconds(settings, "max_timeout") ?? maxTimeout
        timeout = try Self.seconds(settings, "timeout") ?? min(timeout, maxTimeout)
        guard timeout <= maxTimeout else {
            throw PluginError.badSetting(key: "timeout", value: "\(timeout)", reason: "must not exceed max_timeout (\(maxTimeout))")
        }
        maxNames = try Self.whole(settings, "max_names", 1...100_000) ?? maxNames
        maxWaitsPerGuest = try Self.whole(settings, "max_waits_per_guest", 1...1000) ?? maxWaitsPerGuest
        maxEventBytes = try Self.whole(settings, "max_event_bytes", 1...(1 << 20)) ?? maxEventBytes
    }

    /// Seconds between 0 and a day: 0 means "answer at once, do not wait".
    private static func seconds(_ settings: PluginSettings, _ key: String) throws -> Double? {
        guard let value = try settings.double(key) else { return nil }
        guard value >= 0, value <= 86400 else {
            throw PluginError.badSetting(key: key, value: "\(value)", reason: "must be 0 to 86400 seconds")
        }
        return value
    }

    private static func whole(_ settings: PluginSettings, _ key: String, _ range: ClosedRange<Int64>) throws -> Int? {
        guard let value = try settings.int(key) else { return nil }
        guard range.contains(value) else {
            throw PluginError.badSetting(key: key, value: "\(value)", reason: "must be \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(value)
    }
}
