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
                  !(part.count > 1 && part.first == "0"), let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        self.value = value
    }

    public func masked(prefixLength: Int) -> IPv4Address {
        let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
        return IPv4Address(value & mask)
    }

    public func isInSubnet(of other: IPv4Address, prefixLength: Int) -> Bool {
        masked(prefixLength: prefixLength) == other.masked(prefixLength: prefixLength)
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
