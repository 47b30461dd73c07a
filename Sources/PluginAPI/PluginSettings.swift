/// One plug-in's settings, by key: the job file's `"plugins": {"NAME": {...}}` object with the
/// command line's `--set NAME.KEY=VALUE` (repeatable) laid over it.
///
/// A value from the command line is text; the typed readers accept a JSON value of the type or
/// text that spells one, and throw `PluginError.badSetting` otherwise, so a plug-in that reads
/// its settings in `init(context:)` refuses a bad one before the run starts (exit 64).
///
/// ```swift
/// let timeout = try context.settings.double("timeout") ?? 30
/// try context.settings.allowOnly(["timeout"])
/// ```
public struct PluginSettings: Sendable, Equatable {
    /// Every setting given, by key.
    public var values: [String: JSONValue]

    /// Settings with these values (a test, or a context of your own, makes them this way).
    public init(_ values: [String: JSONValue] = [:]) { self.values = values }

    /// A text setting, or nil when it is not given.
    public func string(_ key: String) throws -> String? {
        switch values[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw PluginError.badSetting(key: key, value: Self.text(other), reason: "must be text")
        }
    }

    /// A whole-number setting, or nil when it is not given.
    public func int(_ key: String) throws -> Int64? {
        switch values[key] {
        case nil, .null?: return nil
        case .int(let number)?: return number
        case .string(let text)?:
            guard let number = Int64(text) else { throw PluginError.badSetting(key: key, value: text, reason: "must be a whole number") }
            return number
        case let other?: throw PluginError.badSetting(key: key, value: Self.text(other), reason: "must be a whole number")
        }
    }

    /// A number setting, or nil when it is not given.
    public func double(_ key: String) throws -> Double? {
        switch values[key] {
        case nil, .null?: return nil
        case .int(let number)?: return Double(number)
        case .double(let number)?: return number
        case .string(let text)?:
            guard let number = Double(text), number.isFinite else { throw PluginError.badSetting(key: key, value: text, reason: "must be a number") }
            return number
        case let other?: throw PluginError.badSetting(key: key, value: Self.text(other), reason: "must be a number")
        }
    }

    /// A yes/no setting (`true`/`false`, also as text), or nil when it is not given.
    public func bool(_ key: String) throws -> Bool? {
        switch values[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case .string("true")?: return true
        case .string("false")?: return false
        case let other?: throw PluginError.badSetting(key: key, value: Self.text(other), reason: "must be true or false")
        }
    }

    /// Throws `PluginError.unknownSetting` for the first key (in order) not in `known`: a typo
    /// in a setting is caught before the run instead of silently ignored.
    public func allowOnly(_ known: Set<String>) throws {
        if let key = values.keys.sorted().first(where: { !known.contains($0) }) { throw PluginError.unknownSetting(key: key) }
    }

    private static func text(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return String(decoding: value.encoded(pretty: false), as: UTF8.self)
    }
}
