import JSONKit
import PluginAPI

/// Reads journal records' JSON straight into `JournalEntry` values, one record after another,
/// without building each record's outer object: the journal reader decodes a million records
/// for a long run, and a decoder kept for all of them reuses its buffers and short strings.
package struct JournalEntryDecoder {
    private var parser = JSONParser()

    package init() {}

    /// The entry in one record's JSON text. Throws when the text is not JSON; nil when it is
    /// JSON but not an entry (as `JournalEntry(json:)`).
    package mutating func decode(_ text: UnsafeRawBufferPointer) throws -> JournalEntry? {
        guard let record = try parser.parseEntry(text.bindMemory(to: UInt8.self)) else { return nil }
        return JournalEntry(
            seq: record.seq, time: record.time, wall: record.wall, source: record.source, kind: record.kind,
            fieldsText: record.fields)
    }
}
