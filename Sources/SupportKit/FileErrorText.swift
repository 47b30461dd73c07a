import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// A file operation's error as a person reads it ("No such file or directory"): FoundationEssentials'
/// `CocoaError` has no `localizedDescription` (that needs all of Foundation: issue 18), so the
/// underlying POSIX error is spelled out by `strerror`.
package func fileErrorText(_ error: any Error) -> String {
    var underlying: any Error = error
    if let cocoa = error as? CocoaError, let cause = cocoa.userInfo["NSUnderlyingError"] as? any Error { underlying = cause }
    if let posix = underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
    if let cocoa = underlying as? CocoaError {
        switch cocoa.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "Permission denied"
        default: return "file error \(cocoa.code.rawValue)"
        }
    }
    return String(describing: error)
}
