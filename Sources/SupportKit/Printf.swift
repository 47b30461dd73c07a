import Glibc

extension String {
    /// C's `printf` formatting (`%.3f`, `%02ld`, `%g`) of numbers, in the C locale: Foundation's
    /// `String(format:)` without linking Foundation into the host (issue 18). No `%@`: pass
    /// strings by interpolation. An `Int` is `%ld`.
    package init(printf format: String, _ arguments: any CVarArg...) {
        var size = 64
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let needed = Int(withVaList(arguments) { vsnprintf(&buffer, size, format, $0) })
            guard needed >= 0 else {
                self = ""
                return
            }
            if needed < size {
                self = String(decoding: buffer[..<needed].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return
            }
            size = needed + 1
        }
    }
}
