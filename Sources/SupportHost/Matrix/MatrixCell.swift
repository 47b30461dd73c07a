import FoundationEssentials
import PluginAPI
import SupportKit

/// A column of the matrix: a guest kind of the scheme verbs, or a launcher of the user's.
public struct MatrixGuest: Sendable, Equatable {
    /// The column's name in the grid (`local`, `qemu:x86_64`, or the launcher's name).
    public var name: String
    public var choice: Choice

    public enum Choice: Sendable, Equatable {
        case local
        case qemu(arch: String)
        /// `{injector}` and `{injector_iso}` in it name the injector, as after `--` of a verb.
        case command([String])
    }

    /// The qemu architectures a plan may name: those `scripts/build-guest --arch` builds.
    static var qemuArchitectures: [String] { QemuArch.allCases.map(\.rawValue) }

    public init(name: String, choice: Choice) {
        self.name = name
        self.choice = choice
    }

    /// `"local"`, `"qemu:ARCH"` (`"qemu"` is x86_64), or `{"name": N, "command": [ARGV…]}`.
    public init(json: JSONValue) throws(MatrixPlanError) {
        if let text = json.stringValue {
            try self.init(kind: text)
            return
        }
        guard let object = json.objectValue else {
            throw MatrixPlanError(problems: ["a guest is \"local\", \"qemu:x86_64\" or {\"name\": …, \"command\": […]}"])
        }
        var problems = object.keys.sorted().filter { $0 != "name" && $0 != "command" }.map { "unknown guest key '\($0)' (known: command, name)" }
        let name = object["name"]?.stringValue ?? ""
        if name.isEmpty { problems.append("a launcher guest needs a 'name' (its column in the grid)") }
        let argv = object["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if argv.isEmpty || argv.count != object["command"]?.arrayValue?.count {
            problems.append("guest '\(name)': 'command' must be a non-empty list of arguments")
        }
        if !problems.isEmpty { throw MatrixPlanError(problems: problems) }
        self.init(name: name, choice: .command(argv))
    }

    /// A guest kind by name; a launcher is `NAME=COMMAND ARGS…` (split at spaces).
    public init(kind text: String) throws(MatrixPlanError) {
        if text == "local" {
            self.init(name: "local", choice: .local)
        } else if text == "qemu" || text.hasPrefix("qemu:") {
            let arch = text == "qemu" ? "x86_64" : String(text.dropFirst(5))
            guard Self.qemuArchitectures.contains(arch) else {
                throw MatrixPlanError(problems: ["unknown qemu architecture '\(arch)' (\(Self.qemuArchitectures.joined(separator: ", ")))"])
            }
            self.init(name: "qemu:" + arch, choice: .qemu(arch: arch))
        } else if let equals = text.firstIndex(of: "="), equals != text.startIndex {
            let argv = text[text.index(after: equals)...].split(separator: " ").map(String.init)
            guard !argv.isEmpty else { throw MatrixPlanError(problems: ["guest '\(text)': no command after '='"]) }
            self.init(name: String(text[..<equals]), choice: .command(argv))
        } else {
            throw MatrixPlanError(problems: ["unknown guest '\(text)' (local, qemu:x86_64, or a launcher as {\"name\": …, \"command\": […]} / NAME=COMMAND)"])
        }
    }

    public var json: JSONValue {
        switch choice {
        case .local, .qemu: return .string(name)
        case .command(let argv): return .object(["name": .string(name), "command": .array(argv.map(JSONValue.string))])
        }
    }

    /// The guest as the scheme verbs take it.
    var guestChoice: GuestChoice {
        switch choice {
        case .local: return .local
        case .qemu(let arch): return .qemu(arch: QemuArch(rawValue: arch) ?? .x86_64, kernel: nil, initrd: nil, append: nil)
        case .command(let argv): return .command(argv)
        }
    }

    var isVM: Bool {
        if case .qemu = choice { return true }
        return false
    }

    /// The column's directory name.
    public var slug: String { MatrixCell.slug(name) }
}

/// One dist on one guest: one ordinary run, in `OUTPUT/cells/<dist>/<guest>`.
public struct MatrixCell: Sendable, Equatable {
    public var index: Int
    public var dist: String
    public var guest: MatrixGuest

    public var distName: String { lastPathComponent(of: dist) }

    /// The cell's run directory, relative to the output directory: stable across reruns.
    public var relativeDirectory: String { "cells/\(Self.slug(distName))/\(guest.slug)" }

    public func directory(in output: URL) -> URL { output.appendingPathComponent(relativeDirectory) }

    /// A name safe as one path component: letters, digits, `.`, `_`, `-`; others become `_`.
    static func slug(_ name: String) -> String {
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        return safe.isEmpty || safe == "." || safe == ".." ? "_" + safe : safe
    }
}
