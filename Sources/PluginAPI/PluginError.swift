/// A plug-in's settings or configuration cannot be used: throw it from `init(context:)` and the
/// host refuses the run before anything is created, exiting 64 with a line that names the
/// plug-in and the key.
///
/// ```swift
/// guard timeout > 0 else { throw PluginError.badSetting(key: "timeout", value: "\(timeout)", reason: "must be positive") }
/// ```
public enum PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A setting has a value the plug-in cannot use.
    case badSetting(key: String, value: String, reason: String)
    /// A setting the plug-in needs was not given.
    case missingSetting(key: String)
    /// A setting the plug-in does not know (a typo is caught before the run, not ignored).
    case unknownSetting(key: String)
    /// Anything else about the run's configuration that makes the plug-in unusable.
    case unusable(reason: String)

    public var description: String {
        switch self {
        case .badSetting(let key, let value, let reason): return "setting '\(key)' = '\(value)': \(reason)"
        case .missingSetting(let key): return "setting '\(key)' is required"
        case .unknownSetting(let key): return "unknown setting '\(key)'"
        case .unusable(let reason): return reason
        }
    }
}
