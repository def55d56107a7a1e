import ArgumentParser
import Foundation

/// `switchboard sink`: the local WhatsApp Cloud API stand-in, for development.
struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink",
        abstract: "Answer WhatsApp Cloud API sends locally and print each (development: point SWITCHBOARD_WHATSAPP_BASE_URL here).",
        discussion: """
            Answers POST /{version}/{phone-number-id}/messages as Meta documents it, with a fresh wamid, and prints one
            JSON line per send (recipient, text, Switchboard's reference). scripts/dev runs it and points the workers at it.
            Never expose it: it accepts anything.
            """)
    @Option(help: "Port to listen on (loopback only).") var port = 8090

    func run() async throws {
        let sink = MessagingSink(onSend: { send in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let line = try? encoder.encode(send) { FileHandle.standardOutput.write(line + Data("\n".utf8)) }
        })
        try await sink.run(port: port) { port in
            FileHandle.standardOutput.write(Data("sink: answering WhatsApp sends on http://127.0.0.1:\(port)\n".utf8))
            // Until SIGTERM or SIGINT ends the service group.
            try await Task.sleep(for: .seconds(365 * 24 * 3600))
        }
    }
}
