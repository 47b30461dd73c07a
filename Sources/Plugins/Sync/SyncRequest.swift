import PluginAPI

/// A request to the Sync plug-in, read from its path and query; anything else is a clear 4xx.
///
/// `POST /sync/barrier/NAME[?count=N|role=R][&timeout=S]`, `POST /sync/mutex/NAME/lock[?timeout=S]`,
/// `POST /sync/mutex/NAME/unlock`, `POST /sync/event/NAME` (a JSON body),
/// `POST /sync/event/NAME/wait[?from=GUEST][&timeout=S]`; `GET /sync/event/NAME[?wait=S[&from=GUEST]]`,
/// `GET /sync/status`, `GET /sync/whoami`.
struct SyncRequest: Equatable {
    enum Operation: Equatable {
        case barrier(String, count: Int?, role: String?)
        case lock(String)
        case unlock(String)
        case setEvent(String)
        case waitForEvent(String, from: String?)
        case readEvent(String)
        case status
        case whoami
    }

    /// Names of barriers, mutexes, events and roles: what a shell word and a URL path carry
    /// without quoting or escaping.
    static let maxNameLength = 64

    var operation: Operation
    /// `?timeout=` (a `GET`'s `?wait=`), in seconds, before the plug-in caps it.
    var timeout: Double?

    init(method: String, subpath: String, query: String) throws {
        let parts = subpath.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let query = try Self.query(query)
        let post = method == "POST"
        var allowed: Set<String> = []
        var waitSeconds: Double?
        switch (parts.first, parts.count) {
        case ("barrier", 2) where post:
            operation = .barrier(try Self.name(parts[1]), count: try query["count"].map(Self.count), role: try query["role"].map(Self.name))
            allowed = ["count", "role", "timeout"]
        case ("mutex", 3) where post && parts[2] == "lock":
            operation = .lock(try Self.name(parts[1]))
            allowed = ["timeout"]
        case ("mutex", 3) where post && parts[2] == "unlock":
            operation = .unlock(try Self.name(parts[1]))
        case ("event", 2) where post:
            operation = .setEvent(try Self.name(parts[1]))
        case ("event", 3) where post && parts[2] == "wait":
            operation = .waitForEvent(try Self.name(parts[1]), from: try query["from"].map(Self.name))
            allowed = ["timeout", "from"]
        case ("event", 2) where method == "GET" || method == "HEAD":
            // `?wait=S` (S > 0) waits like `POST …/wait?timeout=S`; the export hook answers it
            // with a `Reply.later`. Without it (or with 0) the event is read at once.
            let name = try Self.name(parts[1])
            if let wait = try query["wait"].map(Self.seconds), wait > 0 {
                operation = .waitForEvent(name, from: try query["from"].map(Self.name))
                waitSeconds = wait
                allowed = ["wait", "from"]
            } else {
                operation = .readEvent(name)
                allowed = ["wait"]
            }
        case ("status", 1) where method == "GET" || method == "HEAD":
            operation = .status
        case ("whoami", 1) where method == "GET" || method == "HEAD":
            operation = .whoami
        case ("barrier", 2), ("event", 2), ("status", 1), ("whoami", 1):
            throw GuestError(405, "\(method) is not allowed here; see docs/sync.md")
        case ("mutex", 3) where parts[2] == "lock" || parts[2] == "unlock", ("event", 3) where parts[2] == "wait":
            throw GuestError(405, "\(method) is not allowed here; see docs/sync.md")
        default:
            throw GuestError(404, "unknown sync path; use /sync/barrier/NAME, /sync/mutex/NAME/lock|unlock, /sync/event/NAME[/wait], /sync/status")
        }
        if let unknown = query.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw GuestError(400, "unknown query parameter '\(unknown)' here")
        }
        timeout = try waitSeconds ?? query["timeout"].map(Self.seconds)
    }

    static func name(_ text: String) throws -> String {
        let allowed = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".")
        }
        guard !text.isEmpty, text.utf8.count <= maxNameLength, allowed, !text.hasPrefix(".") else {
            throw GuestError(400, "a sync name is 1 to \(maxNameLength) of A-Z a-z 0-9 . _ - (not starting with .)")
        }
        return text
    }

    private static func count(_ text: String) throws -> Int {
        guard let count = Int(text), (1...100_000).contains(count) else { throw GuestError(400, "count must be a whole number from 1") }
        return count
    }

    private static func seconds(_ text: String) throws -> Double {
        guard text.utf8.count <= 20, let seconds = Double(text), seconds.isFinite, seconds >= 0 else {
            throw GuestError(400, "timeout must be a number of seconds, 0 or more")
        }
        return seconds
    }

    private static func query(_ text: String) throws -> [String: String] {
        var values: [String: String] = [:]
        guard text.utf8.count <= 1024 else { throw GuestError(414, "query longer than 1024 bytes") }
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            guard values[key] == nil else { throw GuestError(400, "query parameter '\(key)' given twice") }
            values[key] = parts.count > 1 ? String(parts[1]) : ""
        }
        return values
    }
}
