import PluginAPI

/// Finds the plug-in for a path: an exact namespace first, then the longest matching prefix.
struct Router: Sendable {
    struct Route: Sendable {
        let namespace: Namespace
        let plugin: any Plugin
    }

    private let exact: [String: Route]
    /// Prefixes, longest first.
    private let prefixes: [(prefix: String, route: Route)]

    /// Builds the routes; two plug-ins claiming the same namespace is a bad job.
    init(plugins: [any Plugin]) throws(JobError) {
        var exact: [String: Route] = [:]
        var prefixes: [String: Route] = [:]
        for plugin in plugins {
            for namespace in plugin.namespaces {
                let route = Route(namespace: namespace, plugin: plugin)
                switch namespace {
                case .exact(let path):
                    if let other = exact[path] { throw .namespaceClash(namespace.description, type(of: other.plugin).name, type(of: plugin).name) }
                    exact[path] = route
                case .prefix(let path):
                    if let other = prefixes[path] { throw .namespaceClash(namespace.description, type(of: other.plugin).name, type(of: plugin).name) }
                    prefixes[path] = route
                }
            }
        }
        self.exact = exact
        self.prefixes = prefixes.map { ($0.key, $0.value) }.sorted { $0.prefix.count > $1.prefix.count }
    }

    /// The route for a raw path and the part of the path after a matched prefix.
    func route(_ path: String) -> (route: Route, subpath: String)? {
        if let route = exact[path] { return (route, "") }
        // Bytes, not characters: a path is compared as the bytes the guest sent (walking
        // characters showed in profiles of small GETs).
        for (prefix, route) in prefixes {
            if prefix == "/" { return (route, path) }
            guard path.utf8.starts(with: prefix.utf8) else { continue }
            let rest = Substring(path.utf8.dropFirst(prefix.utf8.count))
            if rest.isEmpty || rest.utf8.first == UInt8(ascii: "/") { return (route, String(rest)) }
        }
        return nil
    }
}
