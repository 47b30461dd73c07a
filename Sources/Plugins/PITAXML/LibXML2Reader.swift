import Glibc
import PluginAPI

/// libxml2's pull parser (`xmlTextReader`), loaded with `dlopen` the first time a document is
/// parsed. Why not FoundationXML's `XMLParser`, which wraps the same library: linking it links
/// all of Foundation and ICU into the host, about 7 MiB of resident memory in every host process
/// even when no guest ever sends XML (issue 18). libxml2 itself is a system library
/// (`libxml2.so.2`; `libxml2.so.16` from libxml2 2.14 on), present wherever FoundationXML was.
struct LibXML2Reader: ~Copyable {
    /// `xmlReaderTypes`: the kinds of node `read()` stops at (the ones we look at).
    enum NodeType: Int32 {
        case element = 1, text = 3, cdata = 4, whitespace = 13, significantWhitespace = 14, endElement = 15
    }

    private let functions: Functions
    private let reader: OpaquePointer

    /// A reader over `bytes`, which must stay alive and unmoved until the reader is gone.
    init(bytes: UnsafeRawBufferPointer) throws(GuestError) {
        guard !bytes.isEmpty else { throw GuestError(422, "XML document is not well-formed: it is empty") }
        guard let functions = Functions.loaded else {
            throw GuestError(503, "XML documents cannot be read on this host: libxml2 (libxml2.so.2) is not installed")
        }
        // No network, no messages on stderr; entities are not substituted (declarations never
        // reach the parser: SafeXML.screen refuses them).
        let options: Int32 = 1 << 5 | 1 << 6 | 1 << 11  // XML_PARSE_NOERROR | NOWARNING | NONET
        functions.resetLastError()
        guard let reader = functions.readerForMemory(
            bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil, nil, options)
        else { throw GuestError(500, "the XML parser could not start") }
        self.functions = functions
        self.reader = reader
    }

    deinit { functions.freeReader(reader) }

    /// Moves to the next node: true at a node, false at the end; throws 422 at malformed XML.
    mutating func read() throws(GuestError) -> Bool {
        switch functions.read(reader) {
        case 1: return true
        case 0: return false
        default:
            var reason = "not well-formed"
            if let error = functions.lastError(), let message = error.message {
                reason = String(cString: message).trimmingTrailingNewlines()
            }
            throw GuestError(422, "XML document is not well-formed (line \(functions.lineNumber(reader))): \(reason)")
        }
    }

    var nodeType: NodeType? { NodeType(rawValue: functions.nodeType(reader)) }
    /// The element's name without its prefix.
    var localName: String { string(functions.localName(reader)) ?? "" }
    var namespaceURI: String? { string(functions.namespaceURI(reader)) }
    /// The text of a text or CDATA node, entities and character references decoded.
    var value: String { string(functions.value(reader)) ?? "" }
    var isEmptyElement: Bool { functions.isEmptyElement(reader) == 1 }
    /// Nesting depth of the current node (the root element is 0).
    var depth: Int { Int(functions.depth(reader)) }

    /// The current element's attributes by qualified name, without namespace declarations.
    mutating func attributes() -> [String: String] {
        var attributes: [String: String] = [:]
        while functions.moveToNextAttribute(reader) == 1 {
            if functions.isNamespaceDeclaration(reader) == 1 { continue }
            attributes[string(functions.name(reader)) ?? ""] = string(functions.value(reader)) ?? ""
        }
        _ = functions.moveToElement(reader)
        return attributes
    }

    private func string(_ pointer: UnsafePointer<UInt8>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

extension LibXML2Reader {
    /// The leading fields of libxml2's `struct _xmlError`, unchanged since libxml2 2.0.
    struct ErrorHead {
        var domain: Int32
        var code: Int32
        var message: UnsafePointer<CChar>?
    }

    /// The libxml2 functions we call, looked up once per process.
    struct Functions: @unchecked Sendable {  // C function pointers: immutable once loaded, callable from any thread
        typealias Reader = OpaquePointer
        let readerForMemory: @convention(c) (UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32) -> Reader?
        let freeReader: @convention(c) (Reader) -> Void
        let read: @convention(c) (Reader) -> Int32
        let nodeType: @convention(c) (Reader) -> Int32
        let localName: @convention(c) (Reader) -> UnsafePointer<UInt8>?
        let name: @convention(c) (Reader) -> UnsafePointer<UInt8>?
        let namespaceURI: @convention(c) (Reader) -> UnsafePointer<UInt8>?
        let value: @convention(c) (Reader) -> UnsafePointer<UInt8>?
        let isEmptyElement: @convention(c) (Reader) -> Int32
        let depth: @convention(c) (Reader) -> Int32
        let moveToNextAttribute: @convention(c) (Reader) -> Int32
        let moveToElement: @convention(c) (Reader) -> Int32
        let isNamespaceDeclaration: @convention(c) (Reader) -> Int32
        let lineNumber: @convention(c) (Reader) -> Int32
        private let getLastError: @convention(c) () -> UnsafeRawPointer?
        let resetLastError: @convention(c) () -> Void

        func lastError() -> ErrorHead? { getLastError()?.load(as: ErrorHead.self) }

        /// nil when libxml2 is not installed (or lacks a function, which no release since 2.6 does).
        static let loaded: Functions? = {
            let sonames: [String] = ["libxml2.so.2", "libxml2.so.16"]
            guard let library = sonames.lazy.compactMap({ (soname: String) in dlopen(soname, RTLD_NOW | RTLD_LOCAL) }).first,
                let functions = Functions(library: library)
            else { return nil }
            guard let initParser = dlsym(library, "xmlInitParser") else { return nil }
            unsafeBitCast(initParser, to: (@convention(c) () -> Void).self)()  // once, before any thread parses
            return functions
        }()

        private static let names = [
            "xmlReaderForMemory", "xmlFreeTextReader", "xmlTextReaderRead", "xmlTextReaderNodeType",
            "xmlTextReaderConstLocalName", "xmlTextReaderConstName", "xmlTextReaderConstNamespaceUri",
            "xmlTextReaderConstValue", "xmlTextReaderIsEmptyElement", "xmlTextReaderDepth",
            "xmlTextReaderMoveToNextAttribute", "xmlTextReaderMoveToElement", "xmlTextReaderIsNamespaceDecl",
            "xmlTextReaderGetParserLineNumber", "xmlGetLastError", "xmlResetLastError",
        ]

        private init?(library: UnsafeMutableRawPointer) {
            var found: [String: UnsafeMutableRawPointer] = [:]
            for name in Self.names {
                guard let address = dlsym(library, name) else { return nil }
                found[name] = address
            }
            func symbol<T>(_ name: String) -> T { unsafeBitCast(found[name]!, to: T.self) }  // all found above
            readerForMemory = symbol("xmlReaderForMemory")
            freeReader = symbol("xmlFreeTextReader")
            read = symbol("xmlTextReaderRead")
            nodeType = symbol("xmlTextReaderNodeType")
            localName = symbol("xmlTextReaderConstLocalName")
            name = symbol("xmlTextReaderConstName")
            namespaceURI = symbol("xmlTextReaderConstNamespaceUri")
            value = symbol("xmlTextReaderConstValue")
            isEmptyElement = symbol("xmlTextReaderIsEmptyElement")
            depth = symbol("xmlTextReaderDepth")
            moveToNextAttribute = symbol("xmlTextReaderMoveToNextAttribute")
            moveToElement = symbol("xmlTextReaderMoveToElement")
            isNamespaceDeclaration = symbol("xmlTextReaderIsNamespaceDecl")
            lineNumber = symbol("xmlTextReaderGetParserLineNumber")
            getLastError = symbol("xmlGetLastError")
            resetLastError = symbol("xmlResetLastError")
        }
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}
