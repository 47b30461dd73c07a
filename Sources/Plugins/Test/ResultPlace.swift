import FoundationEssentials
import PluginAPI

/// Where one guest's result goes: in a run of several guests each guest's results are its own
/// (`results/NAME/…`, kept apart in the plug-in's state by guest and path); in a run of one
/// guest they are `results/…` as they always were.
struct ResultPlace {
    let path: String
    /// The guest's name in a run of several; nil in a run of one.
    let guest: String?

    /// The key of the plug-in's state: the path, after the guest's name in a run of several
    /// (a path starts with `/`, a guest name has no space: the two cannot be confused).
    var key: String { Self.key(guest: guest, path: path) }

    /// The folder under `results/`, with its slash ("" in a run of one guest).
    var folder: String { guest.map { $0 + "/" } ?? "" }

    static func key(guest: String?, path: String) -> String { guest.map { "\($0) \(path)" } ?? path }

    /// The guest and path a key was made of.
    static func split(_ key: String) -> (guest: String?, path: String) {
        guard !key.hasPrefix("/"), let space = key.firstIndex(of: " ") else { return (nil, key) }
        return (String(key[..<space]), String(key[key.index(after: space)...]))
    }
}

extension TestPlugin {
    /// The place of a request's result: 404 for a path that is another guest's, not this one's.
    func place(of request: GuestRequest) throws -> ResultPlace {
        let place = ResultPlace(path: request.path, guest: context.configuration.tag(request.guest))
        guard resultKeys.contains(place.key) else {
            throw GuestError(404, "\(request.path) is not a result path of guest \(request.guest)")
        }
        return place
    }

    /// `results/NAME/` for a guest of a run of several, made on first use.
    func directory(of place: ResultPlace) throws -> URL {
        guard !place.folder.isEmpty else { return context.resultsDirectory }
        let directory = context.resultsDirectory.appendingPathComponent(place.folder, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
