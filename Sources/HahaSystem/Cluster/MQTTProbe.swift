import Foundation

/// A minimal MQTT 3.1.1 client: CONNECT with a username and password, read CONNACK. Enough to prove a broker
/// answers and authenticates through a given address (a TCP connect alone would also succeed on a proxy); and, for
/// the drill's loss check, publish a retained message (QoS 1, so the broker has it when this returns) and read it back.
public enum MQTTProbe {
    /// The CONNACK return code (0 = accepted, 4 = bad user name or password, 5 = not authorised), or nil when
    /// nothing answered within `timeout` seconds.
    public static func connect(host: String, port: Int, username: String, password: String, timeout: Int = 3) -> Int? {
        guard let session = Session(host: host, port: port, username: username, password: password, timeout: timeout) else { return nil }
        defer { session.close() }
        return session.returnCode
    }

    /// `connect` on a thread of its own: the socket calls block, and the cooperative pool has one thread per core.
    public static func login(host: String, port: Int, username: String, password: String, timeout: Int = 3) async -> Int? {
        await detached { connect(host: host, port: port, username: username, password: password, timeout: timeout) }
    }

    /// Publishes `payload` retained on `topic` with QoS 1 and waits for the broker's PUBACK. An empty payload removes
    /// the retained message. Throws when the broker refuses the login or does not acknowledge.
    public static func publishRetained(
        host: String, port: Int, username: String, password: String, topic: String, payload: String, timeout: Int = 3
    ) async throws {
        let outcome: String? = await detached {
            guard let session = Session(host: host, port: port, username: username, password: password, timeout: timeout) else {
                return "no broker answered on \(host):\(port)"
            }
            defer { session.close() }
            guard session.returnCode == 0 else { return "the broker refused \(username)'s login (CONNACK \(session.returnCode))" }
            guard session.send(publishPacket(topic: topic, payload: Array(payload.utf8), packetID: 1)),
                let ack = session.receivePacket(), ack.type == 0x40, ack.body == [0x00, 0x01]
            else { return "the broker did not acknowledge the message on \(topic)" }
            _ = session.send([0xE0, 0x00])
            return nil
        }
        if let outcome { throw HahaError(.failed, outcome, next: "look at the broker's log (`docker service logs` of mosquitto)") }
    }

    /// What a subscription to `topic` delivers as retained within `wait` seconds: its payload, `.absent` when the
    /// broker acknowledged the subscription and sent nothing retained, `.unreadable` when no broker accepted the login.
    public static func readRetained(
        host: String, port: Int, username: String, password: String, topic: String, wait: Int = 2
    ) async -> RetainedRead {
        await detached {
            guard let session = Session(host: host, port: port, username: username, password: password, timeout: wait) else {
                return .unreadable("no broker answered on \(host):\(port)")
            }
            defer { session.close() }
            guard session.returnCode == 0 else {
                return .unreadable("the broker refused \(username)'s login (CONNACK \(session.returnCode))")
            }
            guard session.send(subscribePacket(topic: topic, packetID: 1)), let ack = session.receivePacket(), ack.type == 0x90 else {
                return .unreadable("the broker did not acknowledge the subscription to \(topic)")
            }
            guard ack.body.last.map({ $0 != 0x80 }) == true else { return .unreadable("the broker refused the subscription to \(topic)") }
            // Retained messages follow the SUBACK at once; a read that times out means there is none.
            while let packet = session.receivePacket() {
                if let message = parsePublish(packet), message.topic == topic, message.retained {
                    return .found(String(decoding: message.payload, as: UTF8.self))
                }
            }
            return .absent
        }
    }

    public enum RetainedRead: Sendable, Equatable {
        case found(String)
        case absent
        case unreadable(String)
    }

    static func detached<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }

    /// One connection: socket, CONNECT sent, CONNACK read. nil when nothing answered.
    final class Session {
        let fd: Int32
        let returnCode: Int

        init?(host: String, port: Int, username: String, password: String, timeout: Int) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            var limit = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected =
                inet_pton(AF_INET, host, &address.sin_addr) == 1
                && withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                } == 0
            self.fd = fd
            // A client id of its own per connection: the broker drops an older connection that uses the same one.
            let packet = MQTTProbe.connectPacket(
                clientID: "haha-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", username: username, password: password)
            var reply = [UInt8](repeating: 0, count: 4)
            guard connected, packet.withUnsafeBytes({ Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == packet.count,
                recv(fd, &reply, 4, Int32(MSG_WAITALL)) == 4, reply[0] == 0x20, reply[1] == 0x02
            else {
                Foundation.close(fd)
                return nil
            }
            returnCode = Int(reply[3])
        }

        func close() { Foundation.close(fd) }

        func send(_ packet: [UInt8]) -> Bool {
            packet.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == packet.count
        }

        /// One packet: its first byte's type bits (flags in `flags`) and its body; nil on a timeout or a closed connection.
        func receivePacket() -> Packet? {
            var header: UInt8 = 0
            guard recv(fd, &header, 1, Int32(MSG_WAITALL)) == 1 else { return nil }
            var length = 0, shift = 0, byte: UInt8 = 0x80
            while byte & 0x80 != 0 {
                guard shift <= 21, recv(fd, &byte, 1, Int32(MSG_WAITALL)) == 1 else { return nil }
                length |= Int(byte & 0x7F) << shift
                shift += 7
            }
            var body = [UInt8](repeating: 0, count: length)
            guard length == 0 || recv(fd, &body, length, Int32(MSG_WAITALL)) == length else { return nil }
            return Packet(type: header & 0xF0, flags: header & 0x0F, body: body)
        }
    }

    struct Packet: Equatable {
        var type: UInt8
        var flags: UInt8
        var body: [UInt8]
    }

    static func string(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
    }

    /// The remaining-length field: 7 bits a byte, low first, the high bit saying another byte follows.
    static func remainingLength(_ count: Int) -> [UInt8] {
        var length = count
        var encoded: [UInt8] = []
        repeat {
            var byte = UInt8(length % 128)
            length /= 128
            if length > 0 { byte |= 0x80 }
            encoded.append(byte)
        } while length > 0
        return encoded
    }

    /// CONNECT, protocol level 4, clean session, user name and password, keep-alive 60 s.
    static func connectPacket(clientID: String, username: String, password: String) -> [UInt8] {
        let body = string("MQTT") + [0x04, 0xC2, 0x00, 0x3C] + string(clientID) + string(username) + string(password)
        return [0x10] + remainingLength(body.count) + body
    }

    /// PUBLISH with QoS 1 and the retain flag.
    static func publishPacket(topic: String, payload: [UInt8], packetID: UInt16) -> [UInt8] {
        let body = string(topic) + [UInt8(packetID >> 8), UInt8(packetID & 0xff)] + payload
        return [0x33] + remainingLength(body.count) + body
    }

    /// SUBSCRIBE to one topic filter with QoS 0.
    static func subscribePacket(topic: String, packetID: UInt16) -> [UInt8] {
        let body = [UInt8(packetID >> 8), UInt8(packetID & 0xff)] + string(topic) + [0x00]
        return [0x82] + remainingLength(body.count) + body
    }

    /// A PUBLISH packet's topic, payload and retain flag; nil for any other packet or a malformed one.
    static func parsePublish(_ packet: Packet) -> (topic: String, payload: [UInt8], retained: Bool)? {
        guard packet.type == 0x30, packet.body.count >= 2 else { return nil }
        let topicLength = Int(packet.body[0]) << 8 | Int(packet.body[1])
        let qos = (packet.flags >> 1) & 0x03
        let payloadStart = 2 + topicLength + (qos > 0 ? 2 : 0)
        guard packet.body.count >= payloadStart else { return nil }
        let topic = String(decoding: packet.body[2..<(2 + topicLength)], as: UTF8.self)
        return (topic, Array(packet.body[payloadStart...]), packet.flags & 0x01 != 0)
    }
}
