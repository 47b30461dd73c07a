import Foundation

/// Why a job was refused before anything was launched (exit code 64).
public enum JobError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notJSON(reason: String)
    case unknownKey(String)
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

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read job file \(path): \(reason)"
        case .notJSON(let reason): return "job file is not valid JSON: \(reason)"
        case .unknownKey(let key): return "unknown job key '\(key)'"
        case .wrongType(let key, let expected): return "job key '\(key)' must be \(expected)"
        case .missingCommand: return "no guest command: give one after '--' or as 'command' / 'execute' in the job"
        case .commandNotFound(let name): return "guest command '\(name)' not found or not executable"
        case .badResultPath(let path): return "result path '\(path)' must start with '/' and not be '/'"
        case .duplicateResultPath(let path): return "result path '\(path)' is given twice"
        case .badMirror(let text): return "mirror '\(text)' must be PREFIX=DIR with PREFIX starting with '/'"
        case .mirrorDirectoryMissing(let prefix, let directory):
            return "mirror \(prefix): directory '\(directory)' does not exist or is not a directory"
        case .badTimeout(let key, let value): return "\(key) must be a positive number of seconds, not \(String(format: "%g", value))"
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
