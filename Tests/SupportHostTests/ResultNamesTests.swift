import Foundation
import Testing
@testable import SupportHostTest

/// File names under `results/` derived from whatever path a job names.
struct ResultNamesTests {
    static let nasty = [
        "/", "//", "/.", "/..", "/../../etc/passwd", "/./x", "/a/../../b", "/%2e%2e%2f%2e%2e%2fetc", "/.hidden",
        "/..\u{0}x", "/a\\..\\b", "/\u{202E}txt.exe", "/" + String(repeating: "a", count: 5000), "/x\n/y", "/ä/ö",
        "/CON", "/.../...", "/-rf",
    ]

    @Test func nastyPathsGiveNamesThatStayInsideResults() {
        for path in Self.nasty {
            let name = ResultNames.fileName(for: path)
            #expect(!name.isEmpty && name != "." && name != "..", "\(path)")
            #expect(!name.hasPrefix("."), "\(path) → \(name)")
            #expect(!name.contains("/") && !name.contains("\0") && !name.contains("\\"), "\(path) → \(name)")
            #expect(name.utf8.count <= 120, "\(path) → \(name.count) bytes")
            let resolved = URL(fileURLWithPath: "/run/results").appendingPathComponent(name).standardized.path
            #expect(resolved.hasPrefix("/run/results/"), "\(path) → \(resolved)")
        }
    }

    @Test func differentPathsGiveDifferentNames() {
        let names = Self.nasty.map(ResultNames.fileName(for:)) + ["/a_b", "/a/b", "/a?b"].map(ResultNames.fileName(for:))
        #expect(Set(names).count == names.count)
    }

    @Test func plainPathsKeepTheirName() {
        #expect(ResultNames.fileName(for: "/result.xml") == "result.xml")
        #expect(ResultNames.fileName(for: "/1") == "1")
    }
}
