import Foundation

/// A minimal MQTT 3.1.1 client: CONNECT with a username and password, read CONNACK. Enough to prove a broker
/// answers and authenticates through a given address (a TCP connect alone would also succeed on a proxy).
public enum MQTTProbe {
    /// The CONNACK return code (0 = accepted, 4 = bad user name or password, 5 = not authorised), or nil when
    /// nothing answered within `timeout` seconds.
    public static func connect(host: String, port: Int, username: String, password: String, timeout: Int = 3) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let packet = connectPacket(clientID: "haha-probe-\(getpid())", username: username, password: password)
        guard packet.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == packet.count else { return nil }
        var reply = [UInt8](repeating: 0, count: 4)
        let received = recv(fd, &reply, 4, Int32(MSG_WAITALL))
        guard received == 4, reply[0] == 0x20, reply[1] == 0x02 else { return nil }
        return Int(reply[3])
    }

    /// CONNECT, protocol level 4, clean session, user name and password, keep-alive 60 s.
    static func connectPacket(clientID: String, username: String, password: String) -> [UInt8] {
        func string(_ text: String) -> [UInt8] {
            let bytes = Array(text.utf8)
            return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
        }
        let body = string("MQTT") + [0x04, 0xC2, 0x00, 0x3C] + string(clientID) + string(username) + string(password)
        var length = body.count
        var encoded: [UInt8] = []
        repeat {
            var byte = UInt8(length % 128)
            length /= 128
            if length > 0 { byte |= 0x80 }
            encoded.append(byte)
        } while length > 0
        return [0x10] + encoded + body
    }
}
