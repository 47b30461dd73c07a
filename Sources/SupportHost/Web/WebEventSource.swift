/// What an event-stream response follows: the server asks it every `interval` what to send.
protocol WebEventSource: Sendable {
    var interval: Duration { get }
    /// What to send now (nil: nothing), and whether the stream is over.
    func poll() -> (frame: String?, ended: Bool)
}
