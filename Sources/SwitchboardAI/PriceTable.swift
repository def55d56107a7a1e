public import Foundation
public import SwitchboardProviders

/// Prices per model from a versioned file (`Models/prices.json`: dollars per million input and output tokens), so a
/// price change is a reviewed commit, not a code change. A model missing from the file costs 0 and is reported.
public struct PriceTable: Sendable {
    public struct Price: Sendable, Codable, Hashable {
        public var input: Double
        public var output: Double
        public init(input: Double, output: Double) { (self.input, self.output) = (input, output) }
    }
    public let version: String
    public let currency: String
    public let models: [String: Price]

    public init(version: String, currency: String = "USD", models: [String: Price]) {
        (self.version, self.currency, self.models) = (version, currency, models)
    }

    public static func load(path: String) throws -> PriceTable {
        struct File: Decodable {
            let version: String
            let currency: String
            let models: [String: Price]
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AIError.configuration("the price table \(path) cannot be read; set SWITCHBOARD_PRICES or run from the project root")
        }
        do {
            let file = try JSONDecoder().decode(File.self, from: data)
            for (model, price) in file.models where ModelRef(model) == nil || price.input < 0 || price.output < 0 {
                throw AIError.configuration("the price table \(path) has a bad entry \(model): a provider:model name and prices ≥ 0")
            }
            return PriceTable(version: file.version, currency: file.currency, models: file.models)
        } catch let error as AIError {
            throw error
        } catch {
            throw AIError.configuration("the price table \(path) is not {version, currency, models: {provider:model: {input, output}}}")
        }
    }

    /// What `usage` on `model` cost, in millionths of a cent (0 for the embedded models and unpriced ones).
    public func costMicroCents(_ model: ModelRef, usage: TokenUsage) -> Int64 {
        guard let price = models[model.description] else { return 0 }
        // tokens × dollars per million tokens × 100 cents × 10⁶ micro / 10⁶ tokens
        return Int64((Double(usage.prompt) * price.input + Double(usage.completion) * price.output) * 100)
    }

    public func isPriced(_ model: ModelRef) -> Bool { model.isEmbedded || models[model.description] != nil }
}
