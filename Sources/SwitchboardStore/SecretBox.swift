import FoundationEssentials
import Crypto

/// Seals channel secrets (app secrets, auth tokens) with AES-256-GCM before they reach PostgreSQL.
///
/// The key comes from `SWITCHBOARD_SECRET_KEY` (32 random bytes, base64). Each sealed value is
/// `0x01 ‖ nonce ‖ ciphertext ‖ tag`, and is bound to a context (the channel id) as authenticated data,
/// so a sealed value copied onto another row does not open.
public struct SecretBox: Sendable {
    private let key: SymmetricKey
    static let version: UInt8 = 1

    /// - Throws: ``SecretBoxError`` when the key is not base64 of exactly 32 bytes.
    public init(base64Key: String) throws {
        guard let data = Data(base64Encoded: base64Key.trimmingWhitespace()), data.count == 32 else {
            throw SecretBoxError(
                "SWITCHBOARD_SECRET_KEY must be 32 random bytes in base64 (44 characters); make one with: switchboard secret-key")
        }
        key = SymmetricKey(data: data)
    }

    /// A fresh random key, base64.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw SecretBoxError("AES-GCM produced no combined form") }
        return [Self.version] + Array(combined)
    }

    /// - Throws: ``SecretBoxError`` when the value was sealed with another key or for another context, or is corrupt.
    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        guard sealed.first == Self.version, sealed.count > 1 + 12 + 16 else {
            throw SecretBoxError("a sealed secret has an unknown format (version byte \(sealed.first.map(String.init) ?? "none"))")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
        } catch {
            throw SecretBoxError(
                "a sealed secret does not open: SWITCHBOARD_SECRET_KEY differs from the key it was sealed with, or the row was altered")
        }
    }
}

public struct SecretBoxError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
