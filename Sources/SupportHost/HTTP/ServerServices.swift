import FoundationEssentials
import NIOCore
import PluginAPI

/// What every connection's handlers share: the routes, the journal, the activity clock, the
/// connection budget, the answers of uploads that carried `X-Request-Id`.
final class ServerServices: Sendable {
    let router: Router
    let journal: Journal
    let activity: Activity
    let clock: RunClock
    /// One per guest; nil with `--token none`.
    let tokens: GuestTokens?
    /// The run's guest names, in the job's order.
    let guests: [String]
    let limits: Job.ServerLimits
    let connections: ConnectionBudget
    let answered = AnsweredRequests()

    convenience init(router: Router, journal: Journal, activity: Activity, clock: RunClock, token: RunToken?, limits: Job.ServerLimits) {
        self.init(
            router: router, journal: journal, activity: activity, clock: clock, tokens: token.map { GuestTokens(single: $0) },
            guests: [GuestDescription.defaultName], limits: limits)
    }

    init(
        router: Router, journal: Journal, activity: Activity, clock: RunClock, tokens: GuestTokens?, guests: [String],
        limits: Job.ServerLimits
    ) {
        self.router = router
        self.journal = journal
        self.activity = activity
        self.clock = clock
        self.tokens = tokens
        self.guests = guests
        self.limits = limits
        connections = ConnectionBudget(limit: limits.maxConnections, journal: journal)
    }

    var recorder: RequestRecorder { RequestRecorder(journal: journal, activity: activity, clock: clock) }
}
