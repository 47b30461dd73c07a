import PluginAPI

/// The job's `private_network: true` in a run: a new run reserves its network's port before it
/// launches a guest and holds it until every guest has exited; the port is journaled in a
/// `private-network` record, from which a run taken over (`run --resume`) gets its network back.
extension PrivateNetwork {
    static let recordKind = "private-network"

    /// A new run's network, if its job asks for one.
    static func forNewRun(_ job: Job) throws(PrivateNetworkError) -> PrivateNetwork? {
        job.privateNetwork ? try reserve() : nil
    }

    /// The network of a run taken over, from its `private-network` record; nil when it has none.
    static func recorded(_ history: [JournalEntry]) -> PrivateNetwork? {
        guard let entry = history.first(where: { $0.source == "host" && $0.kind == recordKind }),
            let port = entry.fields["port"]?.intValue, let valid = Int(exactly: port), (1...65535).contains(valid)
        else { return nil }
        return resume(port: valid)
    }

    /// The record's fields: the port, the netdev every guest's second NIC is on, and each
    /// guest's address and MAC by name (in job order, so guest N is the N-th name).
    func recordFields(guests: [String]) -> [String: JSONValue] {
        let members = guests.indices.compactMap { try? member($0 + 1, of: guests.count) }
        return [
            "port": .int(Int64(port)), "group": .string(Self.group), "netdev": .string(netdev),
            "addresses": .object(Dictionary(zip(guests, members.map { JSONValue.string($0.address) })) { first, _ in first }),
            "macs": .object(Dictionary(zip(guests, members.map { JSONValue.string($0.mac) })) { first, _ in first }),
        ]
    }
}
