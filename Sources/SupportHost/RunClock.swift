import FoundationEssentials
import PluginAPI
import SupportKit

#if canImport(Glibc)
import Glibc
#endif

/// The run's clocks: monotonic seconds since the run was prepared, and wall time for the record.
///
/// The origin is a `CLOCK_MONOTONIC` reading, which every process of one boot shares: a host
/// that takes a run over after a crash computes the same elapsed time, so the deadlines stay
/// where they were.
struct RunClock: Sendable {
    /// `CLOCK_MONOTONIC` nanoseconds when the run was prepared.
    let origin: UInt64

    init() { origin = Self.monotonicNow() }
    init(origin: UInt64) { self.origin = origin }

    var elapsed: Double { Double(Int64(bitPattern: Self.monotonicNow() &- origin)) / 1e9 }

    static func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The clock of a run whose journal holds `entries`: its own origin when this is the same
    /// boot, else one that continues from the last record.
    static func continuing(_ entries: [PluginAPI.JournalEntry]) -> RunClock {
        continuing(prepared: entries.first { $0.source == "host" && $0.kind == "run-prepared" }, lastTime: entries.last?.time)
    }

    /// The same, from the run's `run-prepared` record and the time of its last record, for a
    /// reader that does not keep every record.
    static func continuing(prepared: PluginAPI.JournalEntry?, lastTime: Double?) -> RunClock {
        if let origin = prepared?.fields["monotonic_origin"]?.intValue, prepared?.fields["boot_id"]?.stringValue == bootID {
            return RunClock(origin: UInt64(origin))
        }
        let last = lastTime ?? 0
        return RunClock(origin: monotonicNow() &- UInt64(max(0, last) * 1e9))
    }

    /// This machine's boot id: a monotonic origin means something only within the same boot.
    static var bootID: String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "")
            .trimmingWhitespace()
    }
}

/// The wall time of journal records, `2026-11-27T11:18:16.971Z` (UTC, milliseconds): the text up
/// to the second is made once a second, not per record (Foundation's ISO 8601 formatter per
/// record cost a few percent of a small GET).
struct WallClockText {
    private var second = -1
    private var prefix: [UInt8] = []

    mutating func now() -> [UInt8] {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        if now.tv_sec != second {
            second = now.tv_sec
            var seconds = now.tv_sec
            var parts = tm()
            gmtime_r(&seconds, &parts)
            prefix = Array(String(
                printf: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)).utf8)
        }
        let millis = now.tv_nsec / 1_000_000
        var text = prefix
        text += [
            UInt8(ascii: "0") + UInt8(millis / 100), UInt8(ascii: "0") + UInt8(millis / 10 % 10),
            UInt8(ascii: "0") + UInt8(millis % 10), UInt8(ascii: "Z"),
        ]
        return text
    }
}
