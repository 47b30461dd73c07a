import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Server-Sent Events client over a plain socket: sends one GET and collects what arrives,
/// so a test can wait, with a deadline, for a line to show up in the stream.
final class EventStreamClient {
    private let fd: Int32
    private(set) var received = ""

    init(port: Int, target: String, headers: [(String, String)]) throws {
        fd = try RawHTTP.connect(port: port, receiveTimeout: timeval(tv_sec: 0, tv_usec: 20_000))
        var request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        _ = Array(request.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    deinit { close(fd) }

    /// Reads until `condition` holds on everything received, or `timeout` seconds pass;
    /// returns the seconds it took, or nil on timeout.
    @discardableResult
    func wait(timeout: Double, for condition: (String) -> Bool) -> Double? {
        let start = Date()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date().timeIntervalSince(start) < timeout {
            if condition(received) { return Date().timeIntervalSince(start) }
            let count = read(fd, &buffer, buffer.count)
            if count > 0 { received += String(decoding: buffer[0..<count], as: UTF8.self) } else if count == 0 { break }
        }
        return condition(received) ? Date().timeIntervalSince(start) : nil
    }

    /// The `id:` of every event received so far, in order.
    var eventIDs: [String] {
        // Split on every newline Character: the chunked framing's "\r\n" is one Character.
        received.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
    }
}
