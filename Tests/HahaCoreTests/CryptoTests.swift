import Foundation
import Testing

@testable import HahaCore

@Suite struct SHA512Tests {
    @Test func hashMatchesFIPSVectors() {
        #expect(
            SHA512.hex(SHA512.hash(Array("abc".utf8)))
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
        #expect(
            SHA512.hex(SHA512.hash([UInt8]()))
                == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        )
        // Two-block message (112 bytes) from FIPS 180-2.
        let long = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(
            SHA512.hex(SHA512.hash(Array(long.utf8)))
                == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        )
    }

    @Test func hmacMatchesRFC4231() {
        let mac = SHA512.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(
            SHA512.hex(mac)
                == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        )
        // Key longer than the block size is hashed first (RFC 4231 test case 6).
        let key = [UInt8](repeating: 0xaa, count: 131)
        let mac6 = SHA512.hmac(key: key, message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(
            SHA512.hex(mac6)
                == "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"
        )
    }

    @Test func pbkdf2MatchesKnownVectors() {
        let one = SHA512.pbkdf2(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
        #expect(
            SHA512.hex(one)
                == "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"
        )
        let two = SHA512.pbkdf2(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 2, length: 64)
        #expect(
            SHA512.hex(two)
                == "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53cf76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e"
        )
    }

    @Test func mosquittoLineHasTheMosquittoFormat() {
        let line = MosquittoFiles.passwordLine(user: "devices", password: "s3cret")
        let parts = line.split(separator: "$", omittingEmptySubsequences: false)
        #expect(line.hasPrefix("devices:$7$101$"))
        #expect(parts.count == 5)
        #expect(Data(base64Encoded: String(parts[3]))?.count == 12)
        #expect(Data(base64Encoded: String(parts[4]))?.count == 64)
        // Deterministic for the same password, different for another.
        #expect(line == MosquittoFiles.passwordLine(user: "devices", password: "s3cret"))
        #expect(line != MosquittoFiles.passwordLine(user: "devices", password: "s3cret2"))
    }

    /// Lines made by the real `mosquitto_passwd -b` (Mosquitto 2.0.21): same salt, same line.
    @Test(arguments: [
        (
            "homeassistant", "Ha-Secret-1",
            "homeassistant:$7$101$hBs0lkvgo/xsw3TG$rKSl/k0Y0L5zin+MExEgjqjcFbfdsXzKax44d7Cvte+PgswT6nhGWCGYv5zgPI74CmxzovGWVDWRV3rpLiiM7g=="
        ),
        (
            "esphome", "p@ss:w0rd with space",
            "esphome:$7$101$a5/vK6rMNGg8xj8e$T/6/Az8oH5VUedf1oIuDL6yeX5ECksPq8z9KykYaxg2wFboUS79fV6S2/plPF0PaUwGFswsMQmaF05tPTZh3vg=="
        ),
    ])
    func mosquittoLineMatchesMosquittoPasswd(user: String, password: String, expected: String) throws {
        let salt = try #require(Data(base64Encoded: String(expected.split(separator: "$")[3])))
        #expect(MosquittoFiles.passwordLine(user: user, password: password, salt: Array(salt)) == expected)
    }

    @Test func passwordsAreLongAndVaried() {
        var generator = SystemRandomNumberGenerator()
        let passwords = (0..<50).map { _ in SecretCatalog.generatePassword(using: &generator) }
        #expect(passwords.allSatisfy { $0.count >= 32 && $0.allSatisfy { $0.isLetter || $0.isNumber } })
        #expect(Set(passwords).count == passwords.count)
    }
}
