/// A snapshot of a live run, for a status line.
public struct RunStatus: Sendable {
    public let elapsed: Double
    /// `launched`, `started`, `finishing` or `stopping`.
    public let state: String
    public let requests: Int64
    public let bytesIn: Int64
    public let bytesOut: Int64
    /// The deadline that comes next (`startup`, `activity`, `total`, `shutdown`) and how far off it is.
    public let nextDeadline: String
    public let untilDeadline: Double
}
