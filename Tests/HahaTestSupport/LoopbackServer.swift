import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP server on 127.0.0.1 (a free port) that reads what each client sends first and answers with fixed bytes:
/// a stand-in for Home Assistant's HTTP API or the broker, for code that probes them.
public final class LoopbackServer: @unchecked Sendable {
    public let port: Int
    private let socketFD: Int32
    private let lock = NSLock()
    private var heard: [[UInt8]] = []
    private var replies: [[UInt8]]

    /// Every chunk a client sent, in order (for a conversation).
    public var received: [[UInt8]] { lock.withLock { heard } }

    public convenience init(reply: [UInt8]) throws {
        try self.init(conversation: [reply])
    }

    /// Answers each read from a client with the next reply, then closes the connection: a broker that talks back.
    public init(conversation replies: [[UInt8]]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        socketFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        self.replies = replies
        Thread.detachNewThread { [self] in serve(fd) }
    }

    /// What the next clients are answered (a peer that changes its mind).
    public func answer(_ replies: [[UInt8]]) {
        lock.withLock { self.replies = replies }
    }

    /// HTTP `401 Unauthorized`: what Home Assistant's `/api/` answers without a token.
    public static func unauthorizedHTTP() throws -> LoopbackServer {
        try LoopbackServer(reply: Array("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
    }

    /// MQTT CONNACK with return code 0 (connection accepted).
    public static func acceptingBroker() throws -> LoopbackServer {
        try LoopbackServer(reply: [0x20, 0x02, 0x00, 0x00])
    }

    private func serve(_ socketFD: Int32) {
        while true {
            let client = accept(socketFD, nil, nil)
            if client < 0 { return }
            for reply in lock.withLock({ replies }) {
                var buffer = [UInt8](repeating: 0, count: 8192)
                let count = recv(client, &buffer, buffer.count, 0)
                if count <= 0 { break }
                lock.withLock { heard.append(Array(buffer.prefix(count))) }
                _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(client)
        }
    }

    /// Stops accepting connections.
    public func stop() {
        shutdown(socketFD, Int32(SHUT_RDWR))
        close(socketFD)
    }
}
