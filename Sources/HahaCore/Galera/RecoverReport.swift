/// One member, as `haha recover` shows it.
public struct MemberLine: Sendable {
    public let text: String
    public init(_ member: GaleraMember) {
        guard member.reachable else { text = "\(member.node): unreachable"; return }
        guard member.hasData else { text = "\(member.node): no database"; return }
        var parts = ["seqno \(member.effectiveSeqno.map(String.init) ?? "unknown")"]
        if let uuid = member.historyUUID { parts.append("cluster \(uuid)") }
        if member.grastate?.safeToBootstrap == true { parts.append("safe_to_bootstrap") }
        text = "\(member.node): " + parts.joined(separator: ", ")
    }
}

public struct RecoverReport: Encodable, Sendable {
    public struct Member: Encodable, Sendable {
        public var node: String
        public var reachable: Bool
        public var hasData: Bool
        public var seqno: Int64?
        public var uuid: String?
        public var safeToBootstrap: Bool
    }
    public var from: String
    public var seqno: Int64
    public var discards: [String]
    public var members: [Member]

    public init(members: [GaleraMember], report: ForcedBootstrap) {
        from = report.from
        seqno = report.seqno
        discards = report.losses
        self.members = members.map {
            Member(
                node: $0.node, reachable: $0.reachable, hasData: $0.hasData, seqno: $0.effectiveSeqno, uuid: $0.historyUUID,
                safeToBootstrap: $0.grastate?.safeToBootstrap == true)
        }
    }
}
