import PluginAPI

/// How much a guest may describe: whatever the document, a platform past these limits is
/// refused with 413 (too much) or 422 (malformed), naming the limit.
public enum PlatformLimits {
    /// The largest platform document accepted under `/discover`.
    public static let maxDocumentBytes = 256 * 1024
    /// Platforms in one `<guest>` document.
    public static let maxPlatforms = 64
    /// `env` and `config` pairs of one platform, together.
    public static let maxPairs = 1000
    /// Bytes of one key.
    public static let maxKeyBytes = 1024
    /// Bytes of one value (and of the scheme and the path).
    public static let maxValueBytes = 16 * 1024

    /// Checks one platform against the limits.
    public static func check(_ platform: Platform) throws(GuestError) {
        guard !platform.scheme.isEmpty, !platform.path.isEmpty else {
            throw GuestError(422, "a platform needs a non-empty scheme and path")
        }
        for (name, text) in [("scheme", platform.scheme), ("path", platform.path)] where text.utf8.count > maxValueBytes {
            throw GuestError(413, "the \(name) of a platform is longer than \(maxValueBytes) bytes")
        }
        let pairs = platform.env.count + platform.config.count
        guard pairs <= maxPairs else {
            throw GuestError(413, "a platform has at most \(maxPairs) pairs, this one has \(pairs)")
        }
        for (section, values) in [("env", platform.env), ("config", platform.config)] {
            for (key, value) in values {
                guard !key.isEmpty else { throw GuestError(422, "a key in \(section) is empty") }
                guard key.utf8.count <= maxKeyBytes else {
                    throw GuestError(413, "a key in \(section) is longer than \(maxKeyBytes) bytes")
                }
                guard value.utf8.count <= maxValueBytes else {
                    throw GuestError(413, "the value of \(section) \(key.prefix(100)) is longer than \(maxValueBytes) bytes")
                }
            }
        }
    }
}
