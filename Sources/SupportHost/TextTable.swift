/// Plain-text columns, padded to the widest cell; the last column is never padded.
public struct TextTable {
    public let header: [String]
    public let rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    public var text: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : Self.padded(row[column], to: widths[column])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// `text` cut or padded with spaces to exactly `width` characters (`NSString.padding`).
    static func padded(_ text: String, to width: Int) -> String {
        text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }
}
