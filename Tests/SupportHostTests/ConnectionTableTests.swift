import Testing

@testable import SupportHost

/// Which connection gives way when the table is full: the bookkeeping alone, times in nanoseconds.
struct ConnectionTableTests {
    static let second: UInt64 = 1_000_000_000

    @Test func connectionsUpToTheLimitAreAdmitted() {
        var table = ConnectionTable<String>(limit: 2)
        guard case .admitted = table.admit("a", now: 0), case .admitted = table.admit("b", now: 0) else {
            Issue.record("not admitted"); return
        }
        #expect(table.count == 2)
    }

    @Test func aBurstPastTheLimitWithinTheProbationIsRefused() {
        var table = ConnectionTable<String>(limit: 2)
        _ = table.admit("a", now: 0)
        _ = table.admit("b", now: 1)
        guard case .refused(open: 2) = table.admit("c", now: Self.second / 2) else { Issue.record("not refused"); return }
    }

    @Test func aNewcomerTakesThePlaceOfTheOldestConnectionWithoutTheToken() {
        var table = ConnectionTable<String>(limit: 3)
        _ = table.admit("old", now: 0)
        _ = table.admit("older-but-proven", now: 0)
        _ = table.admit("young", now: 2 * Self.second)
        table.prove(2)
        guard case .admittedDropping(_, "old", let age) = table.admit("guest", now: 2 * Self.second) else {
            Issue.record("the oldest unproven connection was not dropped"); return
        }
        #expect(age == 2 * Self.second)
        #expect(table.count == 3)
    }

    @Test func provenConnectionsAreNeverDropped() {
        var table = ConnectionTable<String>(limit: 2)
        guard case .admitted(let a) = table.admit("a", now: 0), case .admitted(let b) = table.admit("b", now: 0) else { return }
        table.prove(a)
        table.prove(b)
        guard case .refused = table.admit("c", now: 100 * Self.second) else { Issue.record("a proven connection gave way"); return }
        #expect(table.unprovenCount == 0)
    }

    @Test func aReleasedConnectionFreesItsPlaceAndADroppedOneIsNotReleasedTwice() {
        var table = ConnectionTable<String>(limit: 1)
        guard case .admitted(let first) = table.admit("a", now: 0) else { return }
        guard case .admittedDropping(let second, "a", _) = table.admit("b", now: 5 * Self.second) else { Issue.record("not dropped"); return }
        table.release(first)  // the dropped connection's close arrives later: nothing to do
        #expect(table.count == 1)
        #expect(table.unprovenCount == 1)
        table.release(second)
        #expect(table.count == 0)
        guard case .admitted = table.admit("c", now: 5 * Self.second) else { Issue.record("place not freed"); return }
    }
}
