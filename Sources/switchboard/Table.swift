import FoundationEssentials

/// A plain-text table for people: left-aligned columns, two spaces apart.
struct Table {
    let headers: [String]
    let rows: [[String]]

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (i, cell) in cells.enumerated() {
                out += i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count + 2)
            }
            return out
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}

/// `2026-11-23 16:35:58Z`
func formatUTC(_ date: Date) -> String {
    date.formatted(
        .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).dateTimeSeparator(.space))
}

/// Encodes a value as pretty, key-sorted JSON for `--json` output.
func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Prints a command's list: JSON for `--json`, else `empty` when there is nothing, else a table of `row(item)`.
func printList<Item: Encodable>(_ items: [Item], json: Bool, empty: String, headers: [String], row: (Item) -> [String]) throws {
    if json { return print(try jsonText(items)) }
    if items.isEmpty { return print(empty) }
    print(Table(headers: headers, rows: items.map(row)).render())
}
