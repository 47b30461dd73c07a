/// `support-host --version`. Raised by hand with each release note.
enum SupportHostVersion {
    static let text = "0.4.0"
}
