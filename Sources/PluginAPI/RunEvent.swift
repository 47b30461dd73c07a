/// A run-time operation a plug-in may ask the host for.
public enum HostRequest: Sendable, Equatable {
    /// Move the run's total deadline later, within the operator's `--max-extend` cap.
    case extendDeadline(seconds: Double)
}

/// What a plug-in tells the run. Only the host decides that a run is over.
public enum RunEvent: Sendable, Equatable {
    /// A startup ping; `bootID` is the guest's `X-Boot-Id`, if it sent one. `guest` names the
    /// guest that pinged (`GuestRequest.guest`); nil means the run's only (or first) guest.
    case guestPinged(bootID: String?, guest: String? = nil)
    /// A result file is complete and on stable storage: its path, and where it lies in the run
    /// directory (`results/NAME`), its size and sha256 when the plug-in keeps it as a file — the
    /// host journals them in its own `result-accepted` record, which a live view shows.
    /// `guest` names the guest whose result it is in a run of several; nil means the run's only guest.
    case resultStored(path: String, file: String? = nil, size: Int64? = nil, sha256: String? = nil, guest: String? = nil)
    /// The guest did something with this plug-in that counts as activity (`countsAsActivity()`):
    /// in a run of several guests, every guest's activity.
    case activity
    /// One guest did something with this plug-in that counts as its activity
    /// (`countsAsActivity(of:)`), e.g. it is blocked in a wait the plug-in answers later.
    case guestActivity(guest: String)
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

/// A step of one guest's life the host tells every plug-in about (`Plugin.guestChanged`), in a
/// run of one guest as in a run of several.
public enum GuestChange: Sendable, Equatable {
    /// The guest's first ping: it is up.
    case started
    /// The guest is gone (it exited, crashed, or was stopped); `description` says how, in words
    /// for a person ("exited with status 3", "killed by SIGKILL after the stop").
    case exited(description: String)
}
