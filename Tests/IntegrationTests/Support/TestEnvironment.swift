import Foundation
import SwitchboardPostgres
import SwitchboardStore
import Testing

/// The real services the suite runs against, as `scripts/services start` exported them.
enum TestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String {
            "\(name) is not set: run the suite with scripts/test, which starts redis-server and PostgreSQL 15 and exports their URLs"
        }
    }

    static func require(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    static func redisURL() throws -> String { try require("REDIS_URL") }
    static func databaseURL() throws -> String { try require("DATABASE_URL") }
    static func adminDatabaseURL() throws -> String { try require("SWITCHBOARD_ADMIN_DATABASE_URL") }
    static func secretKey() throws -> String { try require("SWITCHBOARD_SECRET_KEY") }

    /// The package root (this file is Tests/IntegrationTests/Support/TestEnvironment.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built `switchboard` binary (`SWITCHBOARD_BIN`, else .build/debug/switchboard).
    static func switchboardBinary() throws -> String {
        let path = ProcessInfo.processInfo.environment["SWITCHBOARD_BIN"] ?? packageRoot.appendingPathComponent(".build/debug/switchboard").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(name: "SWITCHBOARD_BIN (no executable at \(path); run swift build first)")
        }
        return path
    }
}

/// Serialises schema setup of the shared database across parallel tests (the Migrator's advisory lock
/// would make it safe anyway; this only avoids repeated work).
actor SharedSchema {
    static let shared = SharedSchema()
    private var done = false

    /// Applies Migrations/ to DATABASE_URL once per test process.
    func ensureMigrated() async throws {
        if done { return }
        let db = PostgresClient(url: try TestEnvironment.databaseURL(), maxConnections: 1)
        let migrations = try Migration.load(directory: TestEnvironment.packageRoot.appendingPathComponent("Migrations").path)
        _ = try await Migrator(migrations: migrations).apply(on: db)
        try await db.shutdown()
        done = true
    }
}

/// A fresh, empty database owned by the application role, dropped afterwards. For tests that need a
/// schema of their own (migration tests).
func withScratchDatabase(_ body: (_ url: String) async throws -> Void) async throws {
    let admin = PostgresClient(url: try TestEnvironment.adminDatabaseURL(), maxConnections: 1)
    let name = "sb_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    try await admin.execute("CREATE DATABASE \(name) OWNER switchboard")
    let appURL = try TestEnvironment.databaseURL()
    let url = String(appURL[..<appURL.lastIndex(of: "/")!]) + "/" + name
    do {
        try await body(url)
    } catch {
        _ = try? await admin.execute("DROP DATABASE \(name) WITH (FORCE)")
        try await admin.shutdown()
        throw error
    }
    try await admin.execute("DROP DATABASE \(name) WITH (FORCE)")
    try await admin.shutdown()
}

/// A temporary folder, removed afterwards.
func withTemporaryDirectory(_ body: (URL) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try await body(dir)
}

/// The outcome of running a child process to completion.
struct ProcessResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Starts `executable` with `arguments` and extra environment; call ``RunningProcess/wait()`` for the result.
final class RunningProcess: @unchecked Sendable {
    // @unchecked: Process and Pipe are touched only by the creating task and by wait(), never concurrently.
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice  // never a terminal: commands that confirm must refuse
        process.standardOutput = out
        process.standardError = err
        try process.run()
    }

    /// Waits for exit on a plain thread (never blocking the cooperative pool) and collects the output.
    func wait() async -> ProcessResult {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let stdout = self.out.fileHandleForReading.readDataToEndOfFile()
                let stderr = self.err.fileHandleForReading.readDataToEndOfFile()
                self.process.waitUntilExit()
                continuation.resume(
                    returning: ProcessResult(
                        status: self.process.terminationStatus,
                        stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self)))
            }
        }
    }
}

/// Runs the built `switchboard` with `arguments` to completion.
func runSwitchboard(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
    try await RunningProcess(try TestEnvironment.switchboardBinary(), arguments, environment: environment).wait()
}
