/// The byte ranges of a file received so far: sorted, disjoint, adjacent ranges merged.
struct ByteRanges: Equatable, Sendable {
    private(set) var ranges: [ClosedRange<Int64>] = []

    /// Bytes covered.
    var count: Int64 { ranges.reduce(0) { $0 + $1.upperBound - $1.lowerBound + 1 } }

    /// Whether the ranges cover `0..<total` entirely.
    func covers(total: Int64) -> Bool {
        total == 0 || (ranges.count == 1 && ranges[0].lowerBound == 0 && ranges[0].upperBound == total - 1)
    }

    /// How many separate ranges there would be after inserting `range`.
    func countAfterInserting(_ range: ClosedRange<Int64>) -> Int {
        var copy = self
        copy.insert(range)
        return copy.ranges.count
    }

    mutating func insert(_ range: ClosedRange<Int64>) {
        var merged = range
        var kept: [ClosedRange<Int64>] = []
        for existing in ranges {
            if existing.upperBound + 1 < merged.lowerBound || merged.upperBound + 1 < existing.lowerBound {
                kept.append(existing)
            } else {
                merged = min(existing.lowerBound, merged.lowerBound)...max(existing.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        ranges = kept.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The range received that contains `offset`, if any.
    func range(containing offset: Int64) -> ClosedRange<Int64>? {
        ranges.first { $0.contains(offset) }
    }

    /// The first received byte after `offset`, if any.
    func start(after offset: Int64) -> Int64? {
        ranges.first { $0.lowerBound > offset }?.lowerBound
    }

    /// `0-99,200-299`; empty when nothing arrived.
    var description: String {
        ranges.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }

    /// Parses `description` back (for the journal).
    init(description: String) {
        for item in description.split(separator: ",") {
            let bounds = item.split(separator: "-")
            if bounds.count == 2, let low = Int64(bounds[0]), let high = Int64(bounds[1]), low <= high { insert(low...high) }
        }
    }

    init() {}
}
