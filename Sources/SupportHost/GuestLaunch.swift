import FoundationEssentials
import PluginAPI
import SupportKit

/// What one guest is launched with: its command line with the placeholders filled in, its
/// environment, its console file and its address — each guest its own, since each has its
/// own token.
///
/// Placeholders: `{url}` (`http://HOST:PORT/t/TOKEN`, this guest's token), `{host}`, `{port}`,
/// `{guest}` (its name), and with `private_network` its place on the run's `PrivateNetwork`:
/// `{private_address}`, `{private_netdev}`, `{private_mac}` and `{private_kernel_args}`
/// (`PrivateNetwork.Member.placeholders`). Environment: `SUPPORT_HOST_URL`, `SUPPORT_HOST_HOST`,
/// `SUPPORT_HOST_PORT`, `SUPPORT_HOST_TOKEN`, `SUPPORT_HOST_GUEST`, `SUPPORT_HOST_GUEST_ROLE`,
/// `SUPPORT_HOST_PRIVATE_ADDRESS`.
struct GuestLaunch: Sendable {
    let argv: [String]
    let environment: [String: String]
    let console: URL
    let address: GuestAddress

    static func all(
        job: Job, directory: RunDirectory, tokens: GuestTokens?, baseURL: String, port: Int, privateNetwork: PrivateNetwork?
    ) -> [GuestLaunch] {
        let several = job.guests.count > 1
        return job.guests.enumerated().map { index, guest in
            let tokenPath = tokens?.token(of: guest.name).map(\.pathPrefix) ?? ""
            let url = baseURL + tokenPath
            var placeholders = ["{url}": url, "{host}": job.listenHost, "{port}": String(port), "{guest}": guest.name]
            var environment = [
                "SUPPORT_HOST_URL": url, "SUPPORT_HOST_HOST": job.listenHost, "SUPPORT_HOST_PORT": String(port),
                "SUPPORT_HOST_GUEST": guest.name,
            ]
            if let token = tokens?.token(of: guest.name) { environment["SUPPORT_HOST_TOKEN"] = token.value }
            if let role = guest.role { environment["SUPPORT_HOST_GUEST_ROLE"] = role }
            // A job of more guests than the network holds is refused before the run (`Job`).
            if let member = try? privateNetwork?.member(index + 1, of: job.guests.count) {
                placeholders.merge(member.placeholders) { _, new in new }
                environment["SUPPORT_HOST_PRIVATE_ADDRESS"] = member.address
            }
            let argv = guest.command.map { argument in
                placeholders.reduce(argument) { $0.replacingEvery($1.key, with: $1.value) }
            }
            return GuestLaunch(
                argv: argv, environment: environment, console: directory.console(of: guest.name, several: several),
                address: GuestAddress(url: url, host: job.listenHost, port: port, tokenPath: tokenPath))
        }
    }
}
