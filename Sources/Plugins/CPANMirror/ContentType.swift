/// The `Content-Type` of a mirror file, by its name's ending.
enum ContentType {
    private static let byExtension: [String: String] = [
        "gz": "application/gzip", "tgz": "application/gzip",
        "bz2": "application/x-bzip2", "xz": "application/x-xz", "zip": "application/zip", "tar": "application/x-tar",
        "txt": "text/plain; charset=utf-8", "json": "application/json",
        "yml": "application/yaml", "yaml": "application/yaml",
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
    ]

    /// E.g. `application/gzip` for `Foo-1.0.tar.gz`; `application/octet-stream` when unknown.
    static func of(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/" as Character) else { return "application/octet-stream" }
        return byExtension[path[path.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}
