import Foundation
import PluginAPI

#if canImport(Glibc)
import Glibc
#endif

/// Read-only directory mirrors (a CPAN mirror under `/cpan` is the usual one); every request is
/// recorded by the host and listed in the report as `mirror_requests`.
public final class CPANMirrorPlugin: Plugin {
    public static let name = "CPANMirror"
    public static let summary = "read-only directory mirrors; every request recorded"
    public static let hooks: Set<Hook> = [.export, .recover]
    public static let namespaceSummary = "each --mirror PREFIX (e.g. /cpan/*)"

    private let mounts: [(prefix: String, root: String)]
    private let requests = Locked([JSONValue]())

    public init(context: any HostContext) throws {
        mounts = try context.configuration.mirrors.map { mount in
            guard let real = realpath(mount.directory, nil) else {
                throw GuestError(500, "mirror directory \(mount.directory) does not exist")
            }
            defer { free(real) }
            return (mount.prefix, String(cString: real))
        }
    }

    public var namespaces: [Namespace] { mounts.map { .prefix($0.prefix) } }

    public func exportData(_ request: GuestRequest) throws -> Reply {
        guard case .prefix(let prefix) = request.namespace, let mount = mounts.first(where: { $0.prefix == prefix }) else {
            throw GuestError(404, "no mirror mounted at \(request.path)")
        }
        let file: String
        do {
            file = try MirrorPath.resolve(try MirrorPath.decode(request.subpath), under: mount.root)
        } catch .notFound {
            throw GuestError(404, "not in the mirror: \(request.path)")
        } catch .outsideRoot {
            throw GuestError(403, "refused: \(request.path) leads outside the mirror")
        } catch {
            throw GuestError(400, "refused: \(request.path) is not a plain path (\(error))")
        }
        var info = stat()
        guard stat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw GuestError(404, "not a file in the mirror: \(request.path)")
        }
        return Reply(status: 200, body: .file(FileSlice(path: file, offset: 0, length: Int64(info.st_size))))
    }

    public func recover(_ entry: JournalEntry) throws {
        guard entry.kind == "request" else { return }
        var fields = entry.fields
        fields["time"] = .double(entry.time)
        fields["wall"] = .string(entry.wall)
        requests.withLock { $0.append(.object(fields)) }
    }

    public func report() -> [String: JSONValue] {
        ["mirror_requests": .array(requests.withLock { $0 })]
    }
}
