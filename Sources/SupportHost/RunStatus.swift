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
    /// While stopping: why, the step under way and the next one, in place of a deadline.
    public var stop: Stop?

    public init(elapsed: Double, state: String, requests: Int64, bytesIn: Int64, bytesOut: Int64, nextDeadline: String, untilDeadline: Double, stop: Stop? = nil) {
        (self.elapsed, self.state, self.requests, self.bytesIn, self.bytesOut) = (elapsed, state, requests, bytesIn, bytesOut)
        (self.nextDeadline, self.untilDeadline, self.stop) = (nextDeadline, untilDeadline, stop)
    }

    public struct Stop: Sendable {
        /// The cause in words, e.g. `startup timeout`.
        public let cause: String
        /// e.g. `stop command 1 of 2`, `SIGTERM`, `SIGKILL`.
        public let step: String
        /// The step that follows if the guest is still there, and how far off it is.
        public let nextStep: String?
        public let untilNextStep: Double?

        public init(cause: String, step: String, nextStep: String?, untilNextStep: Double?) {
            (self.cause, self.step, self.nextStep, self.untilNextStep) = (cause, step, nextStep, untilNextStep)
        }
    }
}

extension RunStatus {
    /// The status line: time, state, traffic, then what comes next — a deadline, or while
    /// stopping the step under way and that a second Ctrl-C skips to SIGKILL.
    public var text: String {
        let counts = "\(plural(Int(requests), "request")) · in \(byteText(bytesIn)) · out \(byteText(bytesOut))"
        guard let stop else {
            return "[\(clockText(elapsed))] \(state) · \(counts) · \(nextDeadline) timeout in \(clockText(untilDeadline))"
        }
        var text = "[\(clockText(elapsed))] stopping (\(stop.cause)): \(stop.step)"
        if let next = stop.nextStep, let until = stop.untilNextStep { text += ", \(next) in \(clockText(until))" }
        if stop.step != "SIGKILL" { text += " · Ctrl-C again to force" }
        return text + " · \(counts)"
    }
}
