@testable import SupportHostCPANMirror
import Foundation
import Testing

/// The mirror's pure parts in-process: path decoding, Range parsing, HTTP dates.
struct MirrorPathTests {
    @Test func plainPathsDecodeIntoSegments() throws {
        #expect(try MirrorPath.decode("/authors/id/L/LO/LOCAL/Hello-Tiny-0.01.tar.gz") == ["authors", "id", "L", "LO", "LOCAL", "Hello-Tiny-0.01.tar.gz"])
        #expect(try MirrorPath.decode("/a%20b/%C3%A9t%C3%A9.txt") == ["a b", "été.txt"])
        #expect(try MirrorPath.decode("//a///b/") == ["a", "b"])
        #expect(try MirrorPath.decode("") == [])
    }

    @Test(arguments: [
        "/..", "/../x", "/a/../../x", "/.", "/%2e%2e/x", "/%2E%2e/x", "/.%2e/x", "/a%2fb", "/a%2Fb", "/%252e%252e/x",
        "/a%5cb", "/a\\b", "/a%00b", "/a%0ab", "/%7f", "/%c0%ae%c0%ae/x", "/%e0%80%ae/x", "/%ff", "/%ed%a0%80", "/%",
        "/%2", "/%zz", "/%u002e",
    ])
    func attacksAreRefusedWhileDecoding(_ raw: String) {
        #expect(throws: MirrorPath.Refusal.self) { try MirrorPath.decode(raw) }
    }

    @Test func anOverlongPathIsRefusedBeforeDecoding() {
        #expect(throws: MirrorPath.Refusal.tooLong) { try MirrorPath.decode("/" + String(repeating: "a", count: 5000)) }
    }

    @Test func theRootPrefixCheckIsPerComponent() {
        #expect(MirrorPath.isInside("/srv/cpan/a", root: "/srv/cpan"))
        #expect(MirrorPath.isInside("/srv/cpan", root: "/srv/cpan"))
        #expect(!MirrorPath.isInside("/srv/cpan-secret/a", root: "/srv/cpan"))
        #expect(MirrorPath.isInside("/anything", root: "/"))
    }

    @Test func rangesAreParsedAgainstTheSize() {
        #expect(ByteRange.parse("bytes=0-99", size: 1000) == .slice(offset: 0, length: 100))
        #expect(ByteRange.parse("bytes=900-", size: 1000) == .slice(offset: 900, length: 100))
        #expect(ByteRange.parse("bytes=990-5000", size: 1000) == .slice(offset: 990, length: 10))
        #expect(ByteRange.parse("bytes=-10", size: 1000) == .slice(offset: 990, length: 10))
        #expect(ByteRange.parse("bytes=-5000", size: 1000) == .slice(offset: 0, length: 1000))
        #expect(ByteRange.parse("bytes=1000-", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-0", size: 1000) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=99999999999999999999-", size: 1000) == .unsatisfiable)
    }

    @Test func rangesTheServerMayIgnoreMeanTheWholeFile() {
        for header in ["bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=-", "bytes="] {
            #expect(ByteRange.parse(header, size: 1000) == .whole, "\(header)")
        }
    }

    @Test func httpDatesRoundTrip() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == nil)
        #expect(HTTPDate.parse("yesterday") == nil)
    }

    @Test func contentTypesFollowTheLastExtension() {
        #expect(ContentType.of("/x/Foo-1.0.tar.gz") == "application/gzip")
        #expect(ContentType.of("/x/02packages.details.txt") == "text/plain; charset=utf-8")
        #expect(ContentType.of("/x.d/README") == "application/octet-stream")
        #expect(ContentType.of("/x/META.YML") == "application/yaml")
    }
}
