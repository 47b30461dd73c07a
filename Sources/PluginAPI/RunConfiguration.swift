import FoundationEssentials

/// The settings of one run that plug-ins read: result paths, mirrors, limits, and each
/// plug-in's own settings (read them through `HostContext.settings`).
public struct RunConfiguration: Sendable, Codable, Equatable {
    /// The result paths the guest may `PUT`.
    public var results: [ResultPath]
    /// Directories mounted read-only under URL prefixes.
    public var mirrors: [MirrorMount]
    /// The largest result file accepted, in bytes.
    public var maxResultSize: Int64
    /// Whether a mirror directory is answered with an HTML index (`--mirror-index`) instead of 404.
    public var mirrorIndex: Bool
    /// Each plug-in's settings, by plug-in name: the job's `plugins` key with `--set` laid over it.
    public var settings: [String: JSONValue]
    /// The run's guests, in the job's order: one named `GuestDescription.defaultName` unless the
    /// job lists `guests`.
    public var guests: [GuestDescription]

    public init(
        results: [ResultPath] = [], mirrors: [MirrorMount] = [], mirrorIndex: Bool = false, maxResultSize: Int64 = 1 << 30,
        settings: [String: JSONValue] = [:], guests: [GuestDescription] = [GuestDescription()]
    ) {
        self.results = results
        self.mirrors = mirrors
        self.mirrorIndex = mirrorIndex
        self.maxResultSize = maxResultSize
        self.settings = settings
        self.guests = guests
    }

    private enum CodingKeys: String, CodingKey {
        case results, mirrors, mirrorIndex, maxResultSize, settings, guests
    }

    /// Reads a configuration; `mirrorIndex` and `guests` may be absent (journals written before
    /// they existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        results = try container.decode([ResultPath].self, forKey: .results)
        mirrors = try container.decode([MirrorMount].self, forKey: .mirrors)
        mirrorIndex = try container.decodeIfPresent(Bool.self, forKey: .mirrorIndex) ?? false
        maxResultSize = try container.decode(Int64.self, forKey: .maxResultSize)
        settings = try container.decode([String: JSONValue].self, forKey: .settings)
        guests = try container.decodeIfPresent([GuestDescription].self, forKey: .guests) ?? [GuestDescription()]
    }
}

/// One guest of a run, as plug-ins see it.
public struct GuestDescription: Sendable, Codable, Equatable, Hashable {
    /// The name of the guest of a run that lists no `guests`.
    public static let defaultName = "guest"

    /// Unique in the run: the guest's journal records, console log and results carry it.
    public var name: String
    /// A group it belongs to (e.g. `server`, `client`), for a barrier of one role; may be absent.
    public var role: String?
    /// Whether the run stops, naming it, when this guest fails; a guest that is not essential
    /// is recorded and the run goes on.
    public var essential: Bool
    /// This guest's own result paths in a run of several guests (its results land in
    /// `results/NAME/`); empty in a run of one guest, whose results are `RunConfiguration.results`.
    public var results: [ResultPath]

    public init(
        name: String = GuestDescription.defaultName, role: String? = nil, essential: Bool = true, results: [ResultPath] = []
    ) {
        self.name = name
        self.role = role
        self.essential = essential
        self.results = results
    }

    private enum CodingKeys: String, CodingKey {
        case name, role, essential, results
    }

    /// Reads a description; `results` may be absent (journals written before it existed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        role = try container.decodeIfPresent(String.self, forKey: .role)
        essential = try container.decodeIfPresent(Bool.self, forKey: .essential) ?? true
        results = try container.decodeIfPresent([ResultPath].self, forKey: .results) ?? []
    }
}

extension RunConfiguration {
    /// The result paths of one guest: its own in a run of several guests, the run's in a run of one.
    public func results(of guest: String) -> [ResultPath] {
        guard guests.count > 1 else { return results }
        return guests.first { $0.name == guest }?.results ?? []
    }

    /// The name to tag a guest's records and events with: nil in a run of one guest, whose
    /// journal and report stay as they always were.
    public func tag(_ guest: String) -> String? { guests.count > 1 ? guest : nil }
}

/// A path the guest may `PUT` a result file to.
public struct ResultPath: Sendable, Codable, Equatable, Hashable {
    /// The URL path, starting with `/`.
    public var path: String
    /// A run is complete only when every required result has arrived.
    public var required: Bool

    public init(path: String, required: Bool) {
        self.path = path
        self.required = required
    }
}

/// A host directory served read-only under a URL prefix.
public struct MirrorMount: Sendable, Codable, Equatable, Hashable {
    /// The URL prefix, starting with `/` and without a trailing `/`, e.g. `/cpan`.
    public var prefix: String
    /// The absolute directory served.
    public var directory: String

    public init(prefix: String, directory: String) {
        self.prefix = prefix
        self.directory = directory
    }
}
