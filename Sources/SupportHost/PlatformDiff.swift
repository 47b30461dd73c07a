import FoundationEssentials
import PluginAPI
import SupportKit

/// The differences between two runs' platforms, for a person.
public enum PlatformDiff {
    public static func lines(_ a: [JSONValue], _ b: [JSONValue]) -> [String] {
        let left = byContext(a)
        let right = byContext(b)
        var lines: [String] = []
        for context in Set(left.keys).union(right.keys).sorted() {
            switch (left[context], right[context]) {
            case (let old?, nil): lines.append("- platform \(context) (hash \(old["hash"]?.stringValue ?? "?"))")
            case (nil, let new?): lines.append("+ platform \(context) (hash \(new["hash"]?.stringValue ?? "?"))")
            case (let old?, let new?) where old["hash"] != new["hash"]:
                lines.append("~ platform \(context): hash \(old["hash"]?.stringValue ?? "?") → \(new["hash"]?.stringValue ?? "?")")
                let oldPairs = pairs(old)
                let newPairs = pairs(new)
                for key in Set(oldPairs.keys).union(newPairs.keys).sorted() {
                    switch (oldPairs[key], newPairs[key]) {
                    case (let x?, nil): lines.append("    - \(key)=\(quote(x))")
                    case (nil, let y?): lines.append("    + \(key)=\(quote(y))")
                    case (let x?, let y?) where x != y: lines.append("    ~ \(key): \(quote(x)) → \(quote(y))")
                    default: break
                    }
                }
            default: break
            }
        }
        return lines
    }

    private static func byContext(_ platforms: [JSONValue]) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for platform in platforms {
            result["\(platform["scheme"]?.stringValue ?? "?") \(platform["path"]?.stringValue ?? "?")"] = platform
        }
        return result
    }

    private static func pairs(_ platform: JSONValue) -> [String: String] {
        var result: [String: String] = [:]
        for section in ["env", "config"] {
            for (key, value) in platform[section]?.objectValue ?? [:] { result["\(section).\(key)"] = value.stringValue ?? "" }
        }
        return result
    }

    private static func quote(_ text: String) -> String {
        let clipped = text.count > 200 ? String(text.prefix(200)) + "…" : text
        return "\"" + clipped.replacingEvery("\\", with: "\\\\").replacingEvery("\n", with: "\\n")
            .replacingEvery("\"", with: "\\\"") + "\""
    }
}
