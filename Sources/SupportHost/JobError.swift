import FoundationEssentials
import SupportKit

/// Why a job was refused before anything was launched (exit code 64).
public enum JobError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notJSON(reason: String)
    case unknownKey(String, didYouMean: String?)
    case wrongType(key: String, expected: String)
    case missingCommand
    case commandNotFound(String)
    case badResultPath(String)
    case duplicateResultPath(String)
    case badMirror(String)
    case mirrorDirectoryMissing(prefix: String, directory: String)
    case badTimeout(key: String, value: Double)
    case badListen(String)
    case badRunDirectory(path: String, reason: String)
    case namespaceClash(String, String, String)
    case badPattern(String)
    case badToken(String)
    case badLimit(key: String, value: Int)
    /// A command-line value that cannot be used, and why.
    case badFlag(flag: String, value: String, reason: String)
    /// A verb given an argument it does not take.
    case unexpectedArgument(verb: String, argument: String)
    /// A plug-in refused its settings or the run's configuration (`PluginError`).
    case plugin(name: String, problem: String)
    /// An entry of the job's `guests` list that cannot be used, and why.
    case badGuest(index: Int, reason: String)
    /// More than one problem: all are reported at once, one a line.
    case several([JobError])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read job file \(path): \(reason)"
        case .notJSON(let reason): return "job file is not valid JSON: \(reason)"
        case .unknownKey(let key, let suggestion): return "unknown job key '\(key)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        case .wrongType(let key, let expected): return "job key '\(key)' must be \(expected)"
        case .missingCommand: return "no guest command: give one after '--' or as 'command' / 'execute' in the job"
        case .commandNotFound(let name): return "guest command '\(name)' not found or not executable"
        case .badResultPath(let path): return "result path '\(path)' must start with '/' and not be '/'"
        case .duplicateResultPath(let path): return "result path '\(path)' is given twice"
        case .badMirror(let text): return "mirror '\(text)' must be PREFIX=DIR with PREFIX starting with '/'"
        case .mirrorDirectoryMissing(let prefix, let directory):
            return "mirror \(prefix): directory '\(directory)' does not exist or is not a directory"
        case .badTimeout(let key, let value): return "\(key) must be a positive number of seconds, not \(String(printf: "%g", value))"
        case .badFlag(let flag, let value, let reason): return "\(flag) \(value): \(reason)"
        case .unexpectedArgument(let verb, let argument):
            return "\(verb) takes no argument, but was given '\(argument)' (a guest launcher command goes after --)"
        case .plugin(let name, let problem): return "plug-in \(name): \(problem)"
        case .badGuest(let index, let reason): return "guests[\(index)]: \(reason)"
        case .several(let problems): return "\(problems.count) problems:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        case .badListen(let text): return "listen address '\(text)' must be HOST:PORT with PORT in 0...65535"
        case .badRunDirectory(let path, let reason): return "cannot use run directory \(path): \(reason)"
        case .badPattern(let pattern): return "'\(pattern)' is not a valid regular expression"
        case .badToken(let reason): return "bad token: \(reason)"
        case .badLimit(let key, let value): return "\(key) must be a positive number, not \(value)"
        case .namespaceClash(let namespace, let first, let second):
            return "namespace \(namespace) is claimed by both \(first) and \(second)"
        }
    }
}

extension JobError {
    /// Nil for no problem, the problem itself for one, `.several` for more.
    static func combined(_ problems: [JobError]) -> JobError? {
        let flat = problems.flatMap { problem -> [JobError] in
            if case .several(let inner) = problem { return inner }
            return [problem]
        }
        switch flat.count {
        case 0: return nil
        case 1: return flat[0]
        default: return .several(flat)
        }
    }
}

/// The candidate nearest to `word` by edit distance, if it is near enough to be a likely typo.
func closest(to word: String, among candidates: [String]) -> String? {
    let limit = max(1, word.count / 3)
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }.filter { $0.1 <= limit }
    return scored.min { $0.1 < $1.1 }?.0
}

/// Levenshtein distance: insertions, deletions and substitutions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
