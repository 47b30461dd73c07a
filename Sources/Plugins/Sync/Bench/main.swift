import Foundation
import PluginAPI
import PluginTesting
import SupportHostSync

// Barrier round trip of the Sync plug-in alone, through PluginTesting: N guests (2, 8, 32)
// arrive at once at a fresh barrier, round after round. "release" is the time from the last
// arrival's call to the last answer (what the 50 ms bound is about), "round" from the first
// call to the last answer. The RecordingContext's durable record costs nothing: a host adds
// one fsync per release.
//
//   swift run -c release sync-bench [ROUNDS]

let rounds = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 200
let clock = ContinuousClock()

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

print("parties  rounds  release p50 µs  release p99 µs  round p50 µs  round p99 µs")
for parties in [2, 8, 32] {
    let guests = (1...parties).map { GuestDescription(name: "g\($0)") }
    let tester = try PluginTester(
        SyncPlugin.self, configuration: RunConfiguration(guests: guests), settings: ["max_names": .int(100_000)])
    defer { tester.context.removeRunDirectory() }
    var releases: [Double] = []
    var roundTimes: [Double] = []
    for round in 0..<rounds {
        let times = await withTaskGroup(of: (ContinuousClock.Instant, ContinuousClock.Instant, Int).self) { group in
            for guest in guests {
                group.addTask {
                    let called = clock.now
                    let status = (try? await tester.post("/sync/barrier/round-\(round)", body: Data(), guest: guest.name))?.status ?? 0
                    return (called, clock.now, status)
                }
            }
            var all: [(ContinuousClock.Instant, ContinuousClock.Instant, Int)] = []
            for await time in group { all.append(time) }
            return all
        }
        guard times.allSatisfy({ $0.2 == 200 }) else { fatalError("round \(round): a party was not answered 200") }
        let lastCall = times.map(\.0).max()!
        let firstCall = times.map(\.0).min()!
        let lastAnswer = times.map(\.1).max()!
        releases.append(microseconds(lastAnswer - lastCall))
        roundTimes.append(microseconds(lastAnswer - firstCall))
    }
    print(String(
        format: "%7d  %6d  %14.0f  %14.0f  %12.0f  %12.0f", parties, rounds, percentile(releases, 0.5), percentile(releases, 0.99),
        percentile(roundTimes, 0.5), percentile(roundTimes, 0.99)))
}
