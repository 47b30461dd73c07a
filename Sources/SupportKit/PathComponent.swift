import SystemPackage

/// The last component of a path, as `NSString.lastPathComponent` gives it ("b" for "a/b" and
/// "a/b/", "/" for "/"), without linking Foundation into the host (issue 18).
package func lastPathComponent(of path: String) -> String {
    FilePath(path).lastComponent?.string ?? (path.hasPrefix("/") ? "/" : "")
}
