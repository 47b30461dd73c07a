import NIOHTTP1
import PluginAPI

/// What the journal records of one request: filled in as the request passes the handlers
/// (the token check sets the path, routing the plug-in, the reply writer status and bytes out).
struct RequestRecord {
    let head: HTTPRequestHead
    /// The path without the run token (or with it replaced by `…` when it was wrong).
    var path: String
    /// Run-clock seconds when the head arrived.
    let started: Double
    var source = "host"
    var status = 0
    var bytesIn: Int64 = 0
    var bytesOut: Int64 = 0
    var reason: String?
    var requestID: String?
    /// The guest whose token the request carried (the first guest's name when none was needed).
    var guest = GuestDescription.defaultName
    /// The record names the guest: the run has several.
    var tagsGuest = false

    var announcedLength: Int64? { head.headers.first(name: "content-length").flatMap { Int64($0) } }

    init(head: HTTPRequestHead, path: String, started: Double) {
        self.head = head
        self.path = path
        self.started = started
    }

    /// Adds to the reason, keeping what an earlier stage said.
    mutating func note(_ more: String) {
        reason = (reason.map { $0 + "; " } ?? "") + more
    }

    /// The record's fields as a JSON object, written directly (keys in sorted order): one is
    /// written per request, and a dictionary of values per request showed up in profiles.
    func encodedFields(now: Double) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + path.utf8.count)
        out += #"{"bytes_in":"#.utf8
        JSONWriter.writeInteger(bytesIn, to: &out)
        out += #","bytes_out":"#.utf8
        JSONWriter.writeInteger(bytesOut, to: &out)
        out += #","duration":"#.utf8
        JSONWriter.writeDouble(((now - started) * 1e6).rounded() / 1e6, to: &out)
        if tagsGuest {
            out += #","guest":"#.utf8
            JSONWriter.writeString(guest, to: &out)
        }
        out += #","method":"#.utf8
        JSONWriter.writeString(head.method.rawValue, to: &out)
        out += #","path":"#.utf8
        JSONWriter.writeString(path.utf8.count <= 2048 ? path : String(path.prefix(2048)), to: &out)
        if let range = head.headers.first(name: "range") {
            out += #","range":"#.utf8
            JSONWriter.writeString(String(range.prefix(200)), to: &out)
        }
        if let reason {
            out += #","reason":"#.utf8
            JSONWriter.writeString(String(reason.prefix(1000)), to: &out)
        }
        if let requestID {
            out += #","request_id":"#.utf8
            JSONWriter.writeString(requestID, to: &out)
        }
        out += #","status":"#.utf8
        JSONWriter.writeInteger(Int64(status), to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
