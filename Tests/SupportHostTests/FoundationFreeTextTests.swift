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
        let literal = ConsoleWatch.literalPattern("BUG: a.b (x)* [y]")
        #expect(ConsolePattern.plainText(literal) == "BUG: a.b (x)* [y]")
        let pattern = try #require(ConsolePattern(literal))
        #expect(pattern.matches("[ 1.0] BUG: a.b (x)* [y] at 0"))
        #expect(!pattern.matches("BUG: axb (x)* [y]"))
    }

    @Test func aPlainPatternAndARegexMatchAsNSRegularExpressionDid() throws {
        #expect(ConsolePattern.plainText("a.c") == nil && ConsolePattern.plainText("\\d") == nil && ConsolePattern.plainText("x\\") == nil)
        let plain = try #require(ConsolePattern("Oops: é"))
        #expect(plain.matches("[ 2] Oops: é 0000") && !plain.matches("Oops: e"))
        let regex = try #require(ConsolePattern("^\\[ *[0-9.]+\\] (Linux version|reboot: Restarting)"))
        #expect(regex.matches("[    0.000000] Linux version 6.1.0") && !regex.matches("x [ 0.1] Linux version"))
        #expect(ConsolePattern("a(b") == nil)
    }
}
