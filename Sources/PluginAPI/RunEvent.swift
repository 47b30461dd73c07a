/// A run-time operation a plug-in may ask the host for.
public enum HostRequest: Sendable, Equatable {
    /// Move the run's total deadline later, within the operator's `--max-extend` cap.
    case extendDeadline(seconds: Double)
}

/// What a plug-in tells the run. Only the host decides that a run is over.
public enum RunEvent: Sendable, Equatable {
    /// A startup ping; `bootID` is the guest's `X-Boot-Id`, if it sent one.
    case guestPinged(bootID: String?)
    /// A result file is complete and on stable storage.
    case resultStored(path: String)
    /// The guest did something with this plug-in that counts as activity (`countsAsActivity()`).
    case activity
    /// The plug-in asks the host to end the run (`finish(reason:)`, `fail(reason:)`).
    case endRun(failed: Bool, reason: String)
}

/// A step of the run's life the host tells every plug-in about (`Plugin.runPhaseChanged`).
public enum RunPhase: Sendable, Equatable {
    /// The guest's first ping: it is up.
    case guestStarted
    /// Every required result is in; the guest has its shutdown timeout to exit.
    case finishing
    /// The host is stopping the guest, and why (`startup-timeout`, `plugin-failed`, …).
    case stopping(cause: String)
    /// The guest is gone; the run ends once its records are written.
    case guestExited
}
