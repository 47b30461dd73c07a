import FoundationEssentials
import SupportKit

/// "1 request", "2 requests": a count and its noun, as a person writes them.
public func plural(_ count: Int, _ noun: String, _ plural: String? = nil) -> String {
    "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
}

/// `04:05`, or `1:02:03` past an hour.
public func clockText(_ seconds: Double) -> String {
    let total = Int(max(0, seconds).rounded(.down))
    return total >= 3600
        ? String(printf: "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60)
        : String(printf: "%02ld:%02ld", total / 60, total % 60)
}

/// `512 B`, `1.5 KiB`, `3.0 MiB`.
public func byteText(_ count: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : String(printf: "%.1f", value) + " " + units[unit]
}
