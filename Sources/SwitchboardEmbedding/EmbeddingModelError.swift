/// Why the embedded model could not load or run. The text names files and limits, never the text being embedded.
public enum EmbeddingModelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A file of the model folder is missing.
    case missingFile(String)
    /// A file is there but not what the model needs (truncated download, another model, a changed layout).
    case corrupt(String, String)
    /// The model's files do not match the checksum pinned in the manifest.
    case checksumMismatch(String, expected: String, actual: String)
    /// The embedding service has been shut down; nothing more is embedded.
    case shutDown

    public var description: String {
        switch self {
        case .missingFile(let path):
            "the embedded model's file \(path) is missing; fetch the model with `scripts/fetch-model` (or `scripts/services start`), "
                + "or point SWITCHBOARD_MODEL_DIR at a folder that has it"
        case .corrupt(let path, let reason):
            "the embedded model's file \(path) \(reason); fetch it again with `scripts/fetch-model --force`"
        case .checksumMismatch(let path, let expected, let actual):
            "the embedded model's file \(path) has SHA-256 \(actual), expected \(expected); fetch it again with `scripts/fetch-model --force`"
        case .shutDown:
            "the embedding service has shut down"
        }
    }
}
