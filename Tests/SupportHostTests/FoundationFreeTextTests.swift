import Testing

@testable import SupportHost
@testable import SupportKit

/// The small text helpers that replaced Foundation's in the host (issue 18), held to what
/// Foundation did.
struct FoundationFreeTextTests {
    @Test func printfFormatsNumbersAndGrowsPastItsFirstBuffer() {
        #expect(String(printf: "%.3f s", 1.5) == "1.500 s")
        #expect(String(printf: "%02ld:%02ld", 3, 7) == "03:07")
        #expect(String(printf: "%g", 0.25) == "0.25")
        let long = String(printf: "%0100ld", 42)
        #expect(long.count == 100 && long.hasSuffix("42"))
    }

    @Test func replacingEveryMatchesInsideACarriageReturnLineFeed() {
        // Swift's `replacing` sees "\r\n" as one Character and would leave the "\n" alone.
        #expect("a\r\nb".replacingEvery("\n", with: "\\n") == "a\r\\nb")
        #expect("x-y-z".replacingEvery("-", with: " ") == "x y z")
    }

    @Test func trimmingKeepsInnerSpaceAndTellsSpacesFromLineEnds() {
        #expect("  a b\t".trimmingSpaces() == "a b")
        #expect(" a\n".trimmingSpaces() == "a\n")
        #expect("\n a \r\n".trimmingWhitespace() == "a")
        #expect("   ".trimmingWhitespace() == "")
    }

    @Test func lastPathComponentAsNSStringGaveIt() {
        #expect(lastPathComponent(of: "A/AU/AUTHOR/Foo-1.0.tar.gz") == "Foo-1.0.tar.gz")
        #expect(lastPathComponent(of: "a/b/") == "b")
        #expect(lastPathComponent(of: "plain") == "plain")
        #expect(lastPathComponent(of: "/") == "/")
    }

    @Test func percentEncodingKeepsOnlyASCIILettersDigitsAndTheGivenMarks() {
        #expect(HTML.percentEncoded("a b/ü~", keeping: "-._~/") == "a%20b/%C3%BC~")
        #expect(HTML.percentEncoded("é", keeping: "") == "%C3%A9")
    }

    @Test func panicPatternsMatchLiterally() throws {
        let pattern = ConsoleWatch.literalPattern("BUG: a.b (x)* [y]")
        let regex = try #require(ConsoleWatch.compile(pattern))
        #expect("[ 1.0] BUG: a.b (x)* [y] at 0".contains(regex))
        #expect(!"BUG: axb (x)* [y]".contains(regex))
    }
}
