import CSV
public import Foundation

/// One catalogue row as a source file gives it.
public struct ProductRecord: Sendable, Hashable {
    public var sku: String
    public var name: String
    public var aliases: [String]
    public var unit: String
    public var pack: String?
    /// Price of one selling unit, two decimals; nil when the source leaves it empty.
    public var price: Decimal?
    public var category: String?
    public var active: Bool

    public init(
        sku: String, name: String, aliases: [String] = [], unit: String, pack: String? = nil, price: Decimal? = nil, category: String? = nil,
        active: Bool = true
    ) {
        (self.sku, self.name, self.aliases, self.unit, self.pack, self.price, self.category, self.active) =
            (sku, name, aliases, unit, pack, price, category, active)
    }

    /// The price as PostgreSQL prints numeric(12,2) ("1.60"), for comparing with the stored row.
    public var priceText: String? {
        price.map { p in
            var rounded = Decimal()
            var value = p
            NSDecimalRound(&rounded, &value, 2, .plain)
            let text = "\(rounded)"
            guard let dot = text.firstIndex(of: ".") else { return text + ".00" }
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            return decimals >= 2 ? text : text + String(repeating: "0", count: 2 - decimals)
        }
    }
}

/// Reads a catalogue CSV with the header `sku,name,aliases,unit,pack,price,category` (`aliases` `|`-separated;
/// `aliases`, `pack`, `price`, `category` and an `active` column optional). Every row is checked before anything is
/// returned: a bad row stops the import with its line and column.
public enum CatalogReader {
    public static func read(path: String) throws(KnowledgeImportError) -> [ProductRecord] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KnowledgeImportError(file: path, "cannot be read as UTF-8 text (does the file exist?)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(KnowledgeImportError) -> [ProductRecord] {
        let reader: CSVReader
        do { reader = try CSVReader(string: text, hasHeaderRow: true) } catch {
            throw KnowledgeImportError(file: path, line: 1, "has no header row")
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for required in ["sku", "name", "unit"] where !header.contains(required) {
            throw KnowledgeImportError(
                file: path, line: 1, field: required, "the header lacks the column `\(required)` (expected sku,name,aliases,unit,pack,price,category)"
            )
        }
        var records: [ProductRecord] = []
        var lineOfSKU: [String: Int] = [:]
        var line = 1
        while let row = reader.next() {
            line += 1
            if row.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            guard row.count == header.count else {
                throw KnowledgeImportError(file: path, line: line, "has \(row.count) fields, the header \(header.count)")
            }
            var fields: [String: String] = [:]
            for (key, value) in zip(header, row) { fields[key] = value.trimmingCharacters(in: .whitespaces) }
            func fail(_ field: String, _ reason: String) -> KnowledgeImportError {
                KnowledgeImportError(file: path, line: line, field: field, reason)
            }
            guard let sku = fields["sku"], !sku.isEmpty, sku.count <= 100 else { throw fail("sku", "sku must be 1–100 characters") }
            if let first = lineOfSKU[sku] { throw fail("sku", "sku \(sku) is also on line \(first)") }
            lineOfSKU[sku] = line
            guard let name = fields["name"], !name.isEmpty else { throw fail("name", "a product needs a name") }
            guard let unit = fields["unit"], !unit.isEmpty else { throw fail("unit", "a product needs the unit it is sold in (kg, box, unit, …)") }
            var price: Decimal?
            if let text = fields["price"], !text.isEmpty {
                guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), value >= 0,
                    text.allSatisfy({ $0.isNumber || $0 == "." })
                else { throw fail("price", "price must be a number such as 1.60, without a currency sign (got \"\(text)\")") }
                price = value
            }
            var active = true
            if let text = fields["active"]?.lowercased(), !text.isEmpty {
                guard let value = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][text] else {
                    throw fail("active", "active must be true or false (got \"\(text)\")")
                }
                active = value
            }
            let aliases = (fields["aliases"] ?? "").split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            records.append(
                ProductRecord(
                    sku: sku, name: name, aliases: aliases, unit: unit, pack: fields["pack"].flatMap { $0.isEmpty ? nil : $0 }, price: price,
                    category: fields["category"].flatMap { $0.isEmpty ? nil : $0 }, active: active))
        }
        if let error = reader.error { throw KnowledgeImportError(file: path, line: line + 1, "is not valid CSV (\(error))") }
        return records
    }
}
