import FoundationEssentials
import PluginAPI
import SupportKit

/// A PITA-XML document (`PITA::XML`): a `<guest>` with the platforms it discovered, or a
/// `<report>` of installs, commands and tests.
public enum PITADocument: Sendable {
    case guest([Platform])
    case report(PITAReportSummary)

    /// PITA-XML namespaces start with this, then the schema version (`0.52` today).
    public static let namespacePrefix = "http://ali.as/xml/schema/pita-xml/"
    /// Results larger than this are stored but not parsed.
    public static let maxParsedBytes = 16 * 1024 * 1024

    /// Whether the first bytes of a body look like XML (a `<` after an optional BOM and
    /// whitespace): only then is a result worth parsing.
    public static func looksLikeXML(_ prefix: Data) -> Bool {
        var bytes = prefix[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return first == UInt8(ascii: "<")
    }

    /// Reads a document; `nil` when it is well-formed XML but not PITA-XML. Throws 413 or 422
    /// (with the reason) for a refused or malformed document, or an invalid platform.
    public static func read(_ data: Data, limit: Int = maxParsedBytes) throws(GuestError) -> PITADocument? {
        let root = try SafeXML.parse(data, limit: limit)
        guard root.namespace?.hasPrefix(namespacePrefix) == true else { return nil }
        switch root.name {
        case "guest": return .guest(try platforms(of: root))
        case "report": return .report(PITAReportSummary(root))
        default: return nil
        }
    }

    /// The `<platform>` elements of a `<guest>`, checked against `PlatformLimits`.
    static func platforms(of guest: XMLTreeNode) throws(GuestError) -> [Platform] {
        let elements = guest.descendants("platform")
        guard !elements.isEmpty else { throw GuestError(422, "the <guest> document has no <platform>") }
        guard elements.count <= PlatformLimits.maxPlatforms else {
            throw GuestError(413, "a <guest> has at most \(PlatformLimits.maxPlatforms) platforms, this one has \(elements.count)")
        }
        var platforms: [Platform] = []
        for element in elements {
            // PITA trims its simple properties (scheme, path); pair values are kept as sent.
            let scheme = element.child("scheme")?.text.trimmingWhitespace() ?? ""
            let path = element.child("path")?.text.trimmingWhitespace() ?? ""
            let platform = Platform(
                scheme: scheme, path: path, env: try pairs(element, "env"), config: try pairs(element, "config"))
            try PlatformLimits.check(platform)
            platforms.append(platform)
        }
        return platforms
    }

    private static func pairs(_ platform: XMLTreeNode, _ section: String) throws(GuestError) -> [String: String] {
        var pairs: [String: String] = [:]
        for element in platform.children(section) {
            guard let name = element.attributes["name"] else { throw GuestError(422, "an <\(section)> element has no name") }
            guard pairs[name] == nil else { throw GuestError(422, "<\(section) name=\"\(name.prefix(100))\"> appears twice") }
            guard pairs.count < PlatformLimits.maxPairs else {
                throw GuestError(413, "a platform has at most \(PlatformLimits.maxPairs) pairs")
            }
            // PITA writes an undefined value as <null/>; it is recorded as the empty string.
            pairs[name] = element.text
        }
        return pairs
    }
}
