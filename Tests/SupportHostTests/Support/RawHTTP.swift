import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request over a plain TCP socket, the request target sent byte for byte: no
/// client library normalises `..`, re-encodes `%` or refuses a backslash on the test's behalf.
enum RawHTTP {
    struct Response {
        let status: Int
        let headers: [(name: String, value: String)]
        let body: Data
        /// Everything the server sent, head and body.
        let raw: Data

        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    enum Failure: Error {
        case cannotConnect(Int32)
        case noResponse(String)
    }

    /// Sends `method target` with `headers` and reads until the server closes the connection.
    static func send(
        port: Int, _ method: String = "GET", _ target: [UInt8], headers: [(String, String)] = [], body: [UInt8] = [],
        halfClose: Bool = false, stopAtContentLength: Bool = false
    ) throws -> Response {
        let fd = try connect(port: port, receiveTimeout: timeval(tv_sec: 30, tv_usec: 0))
        defer { close(fd) }

        var request = Array("\(method) ".utf8) + target + Array(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".utf8)
        for (name, value) in headers { request += Array("\(name): \(value)\r\n".utf8) }
        if !body.isEmpty || method == "POST" { request += Array("Content-Length: \(body.count)\r\n".utf8) }
        request += Array("\r\n".utf8) + body
        try sendAll(fd, request)
        // As busybox `nc` does at the end of its input: the client will send nothing more.
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }

        let raw = readToEnd(fd) { raw in
            // A server that keeps the connection open (chromedriver) has answered once its
            // Content-Length is in.
            guard stopAtContentLength, let response = try? parse(raw), let length = response.header("Content-Length").flatMap(Int.init)
            else { return false }
            return response.body.count >= length
        }
        return try parse(raw)
    }

    /// Writes all of `bytes` to the socket.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw Failure.noResponse("write failed: \(errno)") }
            sent += written
        }
    }

    /// Reads until the server closes the connection (or the receive timeout), or until
    /// `isComplete` says what arrived is enough.
    static func readToEnd(_ fd: Int32, isComplete: (Data) -> Bool = { _ in false }) -> Data {
        var raw = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            raw.append(contentsOf: buffer[0..<count])
            if isComplete(raw) { break }
        }
        return raw
    }

    /// A TCP connection to 127.0.0.1:`port` whose reads give up after `receiveTimeout`.
    static func connect(port: Int, receiveTimeout: timeval) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.cannotConnect(errno) }
        var timeout = receiveTimeout
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw Failure.cannotConnect(error)
        }
        return fd
    }

    static func send(port: Int, _ method: String = "GET", _ target: String, headers: [(String, String)] = []) throws -> Response {
        try send(port: port, method, Array(target.utf8), headers: headers)
    }

    private static func parse(_ raw: Data) throws -> Response {
        guard let end = raw.firstRange(of: Data("\r\n\r\n".utf8)) else {
            throw Failure.noResponse("no complete head in \(raw.count) bytes")
        }
        let head = String(decoding: raw[raw.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure.noResponse("bad status line") }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Response(status: status, headers: headers, body: Data(raw[end.upperBound...]), raw: raw)
    }
}
