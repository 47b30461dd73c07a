import FoundationEssentials
import PluginAPI

/// Parses untrusted XML into a small tree, refusing what could make a parser reach outside the
/// document or blow up: any document type declaration or entity declaration (so no external
/// entities and no entity expansion at all), any encoding but UTF-8, documents over a size cap,
/// deep nesting and too many elements.
enum SafeXML {
    static let maxDepth = 64
    static let maxElements = 500_000

    /// Checks the bytes before a parser sees them; throws 413 or 422 with the reason.
    static func screen(_ data: Data, limit: Int) throws(GuestError) {
        guard data.count <= limit else { throw GuestError(413, "XML document of \(data.count) bytes is over the limit of \(limit) bytes") }
        let bytes = [UInt8](data.prefix(4))
        if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0, 0]) {
            throw GuestError(422, "XML documents are accepted in UTF-8 only")
        }
        if let declared = declaredEncoding(data), !["utf-8", "utf8", "us-ascii", "ascii"].contains(declared.lowercased()) {
            throw GuestError(422, "XML documents are accepted in UTF-8 only, this one declares \(declared.prefix(40))")
        }
        let refused = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String? in
            var index = 0
            while index < raw.count {
                let byte = raw[index]
                if byte == 0 { return "a NUL byte" }
                if byte == UInt8(ascii: "<"), index + 1 < raw.count, raw[index + 1] == UInt8(ascii: "!") {
                    for keyword in ["doctype", "entity"] where matches(raw, at: index + 2, keyword) {
                        return "<!\(keyword.uppercased())"
                    }
                }
                index += 1
            }
            return nil
        }
        if let refused {
            throw GuestError(422, "XML document refused: it contains \(refused) (document types and entities are not accepted)")
        }
    }

    private static func matches(_ raw: UnsafeRawBufferPointer, at start: Int, _ keyword: String) -> Bool {
        let letters = Array(keyword.utf8)
        guard start + letters.count <= raw.count else { return false }
        for (offset, letter) in letters.enumerated() where raw[start + offset] | 0x20 != letter { return false }
        return true
    }

    /// The `encoding` of the XML declaration, if there is one.
    private static func declaredEncoding(_ data: Data) -> String? {
        var head = String(decoding: data.prefix(256), as: UTF8.self)
        if head.hasPrefix("\u{FEFF}") { head.removeFirst() }
        guard head.hasPrefix("<?xml"), let end = head.firstRange(of: "?>") else { return nil }
        let declaration = head[..<end.lowerBound]
        guard let key = declaration.firstRange(of: "encoding") else { return nil }
        let rest = declaration[key.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix { $0 != quote })
    }

    /// Screens and parses a document into a tree; throws 413/422 with the reason.
    static func parse(_ data: Data, limit: Int) throws(GuestError) -> XMLTreeNode {
        try screen(data, limit: limit)
        let bytes = [UInt8](data)
        let tree = bytes.withUnsafeBytes { raw in
            Result { () throws(GuestError) -> XMLTreeNode in
                var reader = try LibXML2Reader(bytes: raw)
                return try buildTree(&reader)
            }
        }
        return try tree.get()
    }

    /// Walks the reader's nodes into a tree; stops when the document is too deep or too large.
    private static func buildTree(_ reader: inout LibXML2Reader) throws(GuestError) -> XMLTreeNode {
        var root: XMLTreeNode?
        var stack: [XMLTreeNode] = []
        var elements = 0
        while try reader.read() {
            switch reader.nodeType {
            case .element:
                elements += 1
                guard stack.count < maxDepth else { throw GuestError(413, "XML document refused: nested deeper than \(maxDepth) elements") }
                guard elements <= maxElements else { throw GuestError(413, "XML document refused: more than \(maxElements) elements") }
                let node = XMLTreeNode(name: reader.localName, namespace: reader.namespaceURI, attributes: reader.attributes())
                if let parent = stack.last { parent.children.append(node) } else { root = node }
                // An empty element (`<null/>`) has no end node.
                if !reader.isEmptyElement { stack.append(node) }
            case .endElement:
                _ = stack.popLast()
            case .text, .cdata, .whitespace, .significantWhitespace:
                stack.last?.text += reader.value
            case nil:
                break  // comments, processing instructions
            }
        }
        guard let root else { throw GuestError(422, "XML document is not well-formed: it has no element") }
        return root
    }
}

/// One element of a parsed document.
final class XMLTreeNode {
    let name: String
    let namespace: String?
    let attributes: [String: String]
    var children: [XMLTreeNode] = []
    var text = ""

    init(name: String, namespace: String?, attributes: [String: String]) {
        self.name = name
        self.namespace = namespace
        self.attributes = attributes
    }

    func child(_ name: String) -> XMLTreeNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLTreeNode] { children.filter { $0.name == name } }

    /// Every element below this one named `name`, in document order.
    func descendants(_ name: String) -> [XMLTreeNode] {
        var found: [XMLTreeNode] = []
        var stack = Array(children.reversed())
        while let node = stack.popLast() {
            if node.name == name { found.append(node) }
            stack += node.children.reversed()
        }
        return found
    }
}
