/// An IPv4 address, parsed strictly (four decimal octets, no leading zeros).
public struct IPv4Address: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit),
                !(part.count > 1 && part.first == "0"), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        self.value = value
    }

    /// The prefix lengths a network can have; anything else is refused by the parsers and the validator.
    public static let prefixLengths = 0...32

    /// The netmask of a prefix length, or nil when the length is outside 0...32.
    public static func netmask(prefixLength: Int) -> UInt32? {
        guard prefixLengths.contains(prefixLength) else { return nil }
        return prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
    }

    /// The network address; a prefix length outside 0...32 is clamped into it (validate it first).
    public func masked(prefixLength: Int) -> IPv4Address {
        let clamped = min(max(prefixLength, Self.prefixLengths.lowerBound), Self.prefixLengths.upperBound)
        return IPv4Address(value & (Self.netmask(prefixLength: clamped) ?? 0))
    }

    /// The broadcast address of this address's network, or nil when the prefix length is outside 0...32.
    public func broadcast(prefixLength: Int) -> IPv4Address? {
        Self.netmask(prefixLength: prefixLength).map { IPv4Address(value | ~$0) }
    }

    /// Whether both addresses are in one network; false for a prefix length outside 0...32.
    public func isInSubnet(of other: IPv4Address, prefixLength: Int) -> Bool {
        Self.prefixLengths.contains(prefixLength) && masked(prefixLength: prefixLength) == other.masked(prefixLength: prefixLength)
    }

    public var description: String {
        [24, 16, 8, 0].map { String(value >> UInt32($0) & 0xff) }.joined(separator: ".")
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

public enum HostName {
    /// RFC 1123 host name: dot-separated labels of letters, digits and hyphens, not all-numeric.
    public static func isValid(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let valid = labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        // "10.1.0" or "300.1.2.3" must not pass as a name: a name's last label has a letter.
        return valid && labels.last?.contains(where: \.isLetter) == true
    }

    /// A node or service name: one DNS label, lower case.
    public static func isValidLabel(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 63 && text.first?.isLetter == true && text.last != "-"
            && text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }
}
