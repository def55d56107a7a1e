import ArgumentParser
import Foundation
import Glibc
import SwitchboardEmbedding

/// `switchboard model`: the embedded sentence model — is it there, what does it make of a text, how fast is it here.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "The embedded sentence model (all-MiniLM-L6-v2): check it, embed a text, measure it.",
        discussion: """
            The model's files come from scripts/fetch-model (scripts/services start runs it) into SWITCHBOARD_MODEL_DIR.

            Examples:
              switchboard model check
              switchboard model embed "where is my order?" --json
              switchboard model bench --runs 200
            """,
        subcommands: [Check.self, Embed.self, Bench.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load the model and say what it is; exit 1 if it cannot load.")
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let settings = try Settings.fromEnvironment()
            let started = ContinuousClock.now
            let service = try settings.embeddingService()
            let loaded = ContinuousClock.now - started
            try await service.shutdown()
            let info: [String: String] = [
                "model": SentenceEncoder.modelID, "directory": settings.modelDirectory, "dimension": "\(SentenceEncoder.dimension)",
                "maxTokens": "\(SentenceEncoder.maxTokens)", "vocabulary": "\(service.encoder.tokenizer.vocabularySize)",
                "loadMs": "\(Int(loaded.seconds * 1000))", "blasCore": BLASCore.active,
            ]
            if json { return print(try jsonText(info)) }
            print(
                "\(SentenceEncoder.modelID) in \(settings.modelDirectory): loads in \(info["loadMs"]!) ms, \(SentenceEncoder.dimension) dimensions, "
                    + "OpenBLAS kernels \(BLASCore.active)")
            if BLASCore.isUnderusingCPU, let core = BLASCore.recommended() {
                printError("warning: OpenBLAS runs its oldest kernels on this CPU (about 2x slower); set OPENBLAS_CORETYPE=\(core)")
            }
        }
    }

    struct Embed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a text's token ids and unit vector, or embed a file of texts (one per line) to raw float32.",
            discussion: """
                With --file and --out, every line of --file becomes 384 little-endian float32 values in --out, in order
                (numpy: np.fromfile(path, dtype='<f4').reshape(-1, 384)).
                """)
        @Argument(help: "The text.") var text: String?
        @Option(help: "Embed every line of this file instead.") var file: String?
        @Option(help: "Where --file's vectors go.") var out: String?
        @Flag(help: "Print {ids, vector} as JSON.") var json = false

        func validate() throws {
            guard (text == nil) != (file == nil) else { throw ValidationError("give either a text or --file") }
            guard (file == nil) == (out == nil) else { throw ValidationError("--file and --out go together") }
        }

        func run() async throws {
            var texts: [String] = []
            if let file {
                guard let content = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw ValidationError("cannot read \(file) as UTF-8 text (does the file exist?)")
                }
                texts = content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).reversed().drop(while: \.isEmpty)
                    .reversed()
            }
            // withEmbedder shuts the model's threads down on every path, errors included.
            try await withEmbedder { service in
                if let out {
                    let progress = TerminalProgress(label: "embedded lines")
                    var bytes: [UInt8] = []
                    bytes.reserveCapacity(texts.count * SentenceEncoder.dimension * 4)
                    for start in stride(from: 0, to: texts.count, by: 64) {
                        for vector in try await service.embed(Array(texts[start..<min(texts.count, start + 64)])) {
                            for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
                        }
                        progress.update(min(texts.count, start + 64), texts.count)
                    }
                    progress.finish()
                    guard FileManager.default.createFile(atPath: out, contents: Data(bytes)) else {
                        throw ValidationError("cannot write \(out)")
                    }
                    return print("\(texts.count) vectors of \(SentenceEncoder.dimension) float32 → \(out)")
                }
                let text = text ?? ""
                let vector = try await service.embed(text)
                let ids = service.encoder.tokenizer.encode(text, maxTokens: SentenceEncoder.maxTokens)
                struct Output: Encodable {
                    let ids: [Int32]
                    let vector: [Float]
                }
                if json { return print(try jsonText(Output(ids: ids, vector: vector))) }
                print("tokens (\(ids.count)): \(ids.map(String.init).joined(separator: " "))")
                print("vector[0..<8]: \(vector.prefix(8).map { "\((Double($0) * 1e6).rounded() / 1e6)" }.joined(separator: " ")) …")
            }
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the model on one thread: a 32-token query, a 128-token chunk, a batch of 8 chunks.",
            discussion: "Run a release build (swift build -c release) for figures worth quoting.")
        @Option(help: "Timed runs of each shape (after 5 warm-up runs).") var runs = 100
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let settings = try Settings.fromEnvironment()
            let started = ContinuousClock.now
            let encoder: SentenceEncoder
            do { encoder = try SentenceEncoder(directory: settings.modelDirectory) } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
            let loadMs = (ContinuousClock.now - started).seconds * 1000
            let sentence = "could you help me check the delivery window for my order to the restaurant tomorrow morning please"
            let query = tokens(encoder, count: 32, from: sentence)
            let chunk = tokens(encoder, count: 128, from: sentence)
            var results: [String: [String: Double]] = [:]
            for (name, batch) in [("query32", [query]), ("chunk128", [chunk]), ("batch8x128", Array(repeating: chunk, count: 8))] {
                for _ in 0..<5 { _ = encoder.embed(ids: batch) }
                var times: [Double] = []
                for _ in 0..<runs {
                    let t = ContinuousClock.now
                    _ = encoder.embed(ids: batch)
                    times.append((ContinuousClock.now - t).seconds * 1000)
                }
                times.sort()
                results[name] = [
                    "p50Ms": rounded(times[times.count / 2]), "p95Ms": rounded(times[min(times.count - 1, times.count * 95 / 100)]),
                    "minMs": rounded(times[0]), "perTextMs": rounded(times[times.count / 2] / Double(batch.count)),
                ]
            }
            let rssMB = residentMegabytes()
            if json {
                struct Output: Encodable {
                    let loadMs: Double
                    let residentMB: Double
                    let shapes: [String: [String: Double]]
                }
                return print(try jsonText(Output(loadMs: rounded(loadMs), residentMB: rssMB, shapes: results)))
            }
            print(
                Table(
                    headers: ["SHAPE", "P50 MS", "P95 MS", "MIN MS", "MS PER TEXT"],
                    rows: ["query32", "chunk128", "batch8x128"].map { name in
                        let r = results[name]!
                        return [name, "\(r["p50Ms"]!)", "\(r["p95Ms"]!)", "\(r["minMs"]!)", "\(r["perTextMs"]!)"]
                    }
                ).render())
            print(
                "OpenBLAS kernels \(BLASCore.active); load \(rounded(loadMs)) ms; resident memory \(rssMB) MB (the weights are mapped, shared between processes)"
            )
        }

        /// `[CLS]` + `count − 2` pieces of `text`, repeated as needed, + `[SEP]`.
        private func tokens(_ encoder: SentenceEncoder, count: Int, from text: String) -> [Int32] {
            let pieces = Array(encoder.tokenizer.encode(text, maxTokens: 512).dropFirst().dropLast())
            let body = (0..<(count - 2)).map { pieces[$0 % pieces.count] }
            return [encoder.tokenizer.classifierID] + body + [encoder.tokenizer.separatorID]
        }

        private func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }
    }
}

/// This process's resident set (VmRSS), in MB.
func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return (kb / 1024 * 10).rounded() / 10
}
