import Crypto
import FoundationEssentials
import PluginAPI
import SupportKit

/// Derives the file name under `results/` from a result path, never leaving the directory.
///
/// Only `[A-Za-z0-9._-]` survive; anything else becomes `_`, leading dots are replaced, and when
/// the name had to change a short digest of the path keeps two different paths apart.
enum ResultNames {
    static func fileName(for path: String) -> String {
        let trimmed = path.drop { $0 == "/" }
        var name = String(
            trimmed.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return Character(scalar)
                default: return "_"
                }
            }.prefix(100))
        while name.hasPrefix(".") { name = "_" + name.dropFirst() }
        if name.isEmpty { name = "result" }
        if name != trimmed {
            let digest = hexEncoded(SHA256.hash(data: Data(path.utf8)).prefix(4))
            name += "-" + digest
        }
        return name
    }
}
