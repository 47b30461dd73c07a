/// Request targets that try to leave a mirror root, generated from each trick's variants: every
/// spelling of a dot and of a slash (plain, percent-encoded in either case, double-encoded,
/// overlong UTF-8, backslash), combined at one and two levels up, plus NUL, `;`, mixed and
/// symlink tricks. Each is the raw bytes a client would put on the request line.
enum TraversalAttacks {
    static let dots = [".", "%2e", "%2E", "%252e", "%252E", "%c0%ae", "%C0%AE", "%e0%80%ae", "%c0%2e", "%u002e", "%%32%65"]
    static let slashes = ["/", "%2f", "%2F", "%252f", "\\", "%5c", "%5C", "%255c", "%c0%af", "%e0%80%af", "%c1%9c"]

    static func paths(prefix: String, target: String) -> [[UInt8]] {
        var paths: [String] = []
        for dot in dots {
            for slash in slashes {
                let up = dot + dot + slash
                paths.append(prefix + "/" + up + target)
                paths.append(prefix + "/sub" + slash + up + up + target)
            }
        }
        paths += [
            "/../" + target, prefix + "/../" + target, prefix + "/./../" + target, prefix + "//../" + target,
            prefix + "/sub/../../" + target, prefix + "/..;/" + target, prefix + "/%00../" + target, prefix + "/..%00/" + target,
            prefix + "/" + target + "%00.txt", prefix + "/.%2e/" + target, prefix + "/%2e./" + target, prefix + "/..%2f" + target,
            prefix + "/..%252f" + target, prefix + "/escape", prefix + "/escape/", prefix + "/escape%00", prefix + "/sub/../escape",
            prefix + "/%65scape/..", prefix + "/..\\" + target, prefix + "\\..\\" + target, prefix + "/.../" + target,
            prefix + "/%", prefix + "/%zz", prefix + "/%2", prefix + "/sub/%00", prefix + "/%7f",
        ]
        var raw = paths.map { Array($0.utf8) }
        // Raw bytes no well-behaved client sends: overlong and invalid UTF-8, bare high bytes.
        raw.append(Array((prefix + "/").utf8) + [0xc0, 0xae, 0xc0, 0xae, 0x2f] + Array(target.utf8))
        raw.append(Array((prefix + "/").utf8) + [0x2e, 0x2e, 0xc0, 0xaf] + Array(target.utf8))
        raw.append(Array((prefix + "/").utf8) + [0xff, 0xfe] + Array(target.utf8))
        return raw
    }
}
