/// `JSONValue` is part of the contract; it lives in `JSONKit` with the parser that makes it.
@_exported import JSONKit
