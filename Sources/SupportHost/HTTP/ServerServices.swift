import Foundation
import NIOCore

/// What every connection's handlers share: the routes, the journal, the activity clock, the
/// connection budget, the answers of uploads that carried `X-Request-Id`.
final class ServerServices: Sendable {
    let router: Router
    let journal: Journal
    let activity: Activity
    let clock: RunClock
    /// Nil with `--token none`.
    let token: RunToken?
    let limits: Job.ServerLimits
    let connections: ConnectionBudget
    let answered = AnsweredRequests()

    init(router: Router, journal: Journal, activity: Activity, clock: RunClock, token: RunToken?, limits: Job.ServerLimits) {
        self.router = router
        self.journal = journal
        self.activity = activity
        self.clock = clock
        self.token = token
        self.limits = limits
        connections = ConnectionBudget(limit: limits.maxConnections, journal: journal)
    }

    var recorder: RequestRecorder { RequestRecorder(journal: journal, activity: activity, clock: clock) }
}
