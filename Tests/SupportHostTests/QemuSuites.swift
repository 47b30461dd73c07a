import Testing

/// The qemu suites, one test at a time across all of them: each VM is a CPU-bound TCG process,
/// and the two cores CI shares with the rest of the tests carry three at once, not more.
@Suite(.serialized) enum QemuSuites {}
