internal import Crypto

/// SHA-512, HMAC-SHA512 (swift-crypto) and PBKDF2-HMAC-SHA512 (RFC 8018) over byte arrays.
///
/// haha needs them for Mosquitto's password file format (`$7$`: PBKDF2-HMAC-SHA512), for secrets derived from
/// other secrets, and for content-addressed names (Swarm configs, lab images). This is the one file that
/// imports the library. PBKDF2 is the RFC's loop over the library's HMAC: swift-crypto has it only in
/// CryptoExtras (an extra module plus swift-asn1 to build) behind a throwing API, which would make rendering throw.
public enum SHA512 {
    public static func hash<Bytes: Collection<UInt8>>(_ message: Bytes) -> [UInt8] {
        Array(Crypto.SHA512.hash(data: Array(message)))
    }

    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<Crypto.SHA512>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    public static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var derived: [UInt8] = []
        var block: UInt32 = 1
        while derived.count < length {
            var u = Array(HMAC<Crypto.SHA512>.authenticationCode(for: salt + withUnsafeBytes(of: block.bigEndian, Array.init), using: key))
            var t = u
            for _ in 1..<max(iterations, 1) {
                u = Array(HMAC<Crypto.SHA512>.authenticationCode(for: u, using: key))
                for i in t.indices { t[i] ^= u[i] }
            }
            derived += t
            block += 1
        }
        return Array(derived.prefix(length))
    }

    /// The first `bytes` bytes of the SHA-512 of `data`, in hex: short content-addressed names and cache keys.
    public static func prefixHex<Bytes: Collection<UInt8>>(_ data: Bytes, bytes: Int) -> String {
        hex(Array(hash(data).prefix(bytes)))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] })
    }
}
