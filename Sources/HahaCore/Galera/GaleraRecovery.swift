/// Pure decision logic for starting or recovering the MariaDB Galera cluster: which member bootstraps a
/// Primary Component, which ones only (re)join, and when to refuse. No I/O here: callers gather the facts
/// (`grastate.dat`, `mariadbd --wsrep-recover` output, `SHOW STATUS LIKE 'wsrep_%'`) into `GaleraMember`s,
/// ask `GaleraRecovery.plan(_:)`, and act on the answer.
///
/// The guiding rule is **no committed write is lost**. Galera only ever bootstraps one member; every other
/// member joins it and, if its history is not a prefix of the bootstrapper's, receives a full state snapshot
/// (SST) that overwrites its data. So the bootstrapper must be a member that holds every committed write, and
/// when that cannot be established from what is visible the plan refuses and says what the user can do.
public enum GaleraRecovery {
    /// The cluster UUID Galera writes when a member has no cluster history (never joined, or a failed SST).
    public static let nilUUID = "00000000-0000-0000-0000-000000000000"

    // MARK: - grastate.dat

    /// Reads the output of `mariadbd --wsrep-recover`, whose relevant line looks like
    /// `2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: 8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3:1234`,
    /// possibly followed by the GTID (`…:1234,0-1-56`).
    ///
    /// Only the **last** such line counts (a log appended to by several runs ends with the newest). Returns nil
    /// when there is no such line or when the last one is malformed (for example a truncated log), so that the
    /// caller treats the position as still unknown rather than trusting an older run. A member with nothing to
    /// recover reports `00000000-0000-0000-0000-000000000000:-1`, returned as is.
    public static func parseRecoveredPosition(_ log: String) -> (uuid: String, seqno: Int64)? {
        let marker = "wsrep: recovered position:"
        var last: Substring?
        for line in log.split(whereSeparator: \.isNewline) {
            // Lowercased as a whole: the UUID is stored lowercased anyway and digits are unaffected.
            let lowered = line.lowercased()
            guard let range = lowered.firstRange(of: marker) else { continue }
            last = lowered[range.upperBound...]
        }
        guard let last else { return nil }
        let tokens = last.split(whereSeparator: \.isWhitespace)
        guard let position = tokens.first, let colon = position.lastIndex(of: ":") else { return nil }
        let uuid = position[..<colon]
        // MariaDB may append the GTID after a comma: `uuid:16,0-1-6`.
        let seqnoText = position[position.index(after: colon)...].split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard isUUID(uuid), let seqno = Int64(seqnoText), seqno >= -1 else { return nil }
        return (uuid.lowercased(), seqno)
    }

    /// Returns `text` (a `grastate.dat`) with `safe_to_bootstrap: 1`, every other line unchanged. A missing
    /// `safe_to_bootstrap` line (older Galera versions) is added at the end. Idempotent.
    ///
    /// Galera refuses to bootstrap from a member whose file says `safe_to_bootstrap: 0` (it was not the last to
    /// leave the Primary Component, or it crashed). Only call this for the member `plan(_:)` chose, with
    /// `markSafe: true`, or on an explicit `haha recover --from NODE` from the user.
    public static func markSafeToBootstrap(_ text: String) -> String {
        // Split on "\n" scalars: as Characters, "\r\n" is one grapheme that never equals "\n".
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }
        var found = false
        for index in lines.indices {
            guard let (key, _) = GraState.keyValue(lines[index]), key == "safe_to_bootstrap" else { continue }
            let carriageReturn = lines[index].hasSuffix("\r") ? "\r" : ""
            lines[index] = "safe_to_bootstrap: 1" + carriageReturn
            found = true
        }
        if !found {
            // Insert after the last non-empty line, keeping any trailing newline(s) where they were.
            let lastContent = lines.lastIndex { !$0.allSatisfy(\.isWhitespace) }
            let carriageReturn = lines.contains { $0.hasSuffix("\r") } ? "\r" : ""
            if let lastContent {
                lines.insert("safe_to_bootstrap: 1" + carriageReturn, at: lines.index(after: lastContent))
            } else {
                lines = ["safe_to_bootstrap: 1", ""]
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Planning

    /// Decides how to bring the cluster (back) up. Rules, in order:
    ///
    /// 1. **A Primary Component is alive** — some reachable, running member reports `wsrep_cluster_status`
    ///    `Primary` and `wsrep_local_state` 4 (Synced): `.healthy` with the members that report `Primary`.
    ///    Nothing is bootstrapped; every other member just (re)joins it, whatever the state of the stopped
    ///    or unreachable ones (a live Primary Component is the authoritative history; bootstrapping a
    ///    second one would be a split brain).
    ///    - If the `Primary` members cannot all belong to one component (more of them than the largest
    ///      `wsrep_cluster_size` they report, or different cluster UUIDs), there already is a split brain:
    ///      `.blocked`, never pick one automatically.
    ///    - If members report `Primary` but none is Synced yet (a state transfer in progress), `.blocked`:
    ///      wait and decide again; never bootstrap beside a live Primary Component.
    /// 2. **No member has data** (no initialised data directory) and every member is reachable:
    ///    `.bootstrapNew` from the first member in `order`. If some member is unreachable it may hold the
    ///    only copy of the data (a new cluster would then overwrite it when it returns): `.blocked`.
    /// 3. **Members with data disagree on the cluster UUID** (ignoring the nil UUID of members that never
    ///    joined; the UUID `--wsrep-recover` reported counts over the one in `grastate.dat`): they hold unrelated
    ///    histories and whichever bootstraps wipes the others: `.blocked`, naming which nodes hold which UUID;
    ///    the user chooses with `haha recover --from NODE`.
    /// 4. **Some member's position is unknown** — `grastate.dat` missing or `seqno: -1` (it crashed or was
    ///    still running when its state was read) and no `recovered` seqno yet: `.needRecovery` with those
    ///    nodes; the caller runs `mariadbd --wsrep-recover` on each (for a member still running, it may use
    ///    `wsrep_last_committed` instead) and fills `recovered`, then plans again. Every known position is
    ///    compared before anything is chosen, also when a member says `safe_to_bootstrap: 1`.
    /// 5. **Exactly one member with data says `safe_to_bootstrap: 1`** and no reachable member has a higher
    ///    position: Galera wrote that on the last member to leave the Primary Component after a clean shutdown,
    ///    so it holds every committed write: `.recover` from it (even if another member is unreachable: nothing
    ///    can be newer than the last member of the last Primary Component). If another member is further
    ///    ahead, or two or more say so (possible only after a split brain was forced on both sides), the flag
    ///    proves nothing and the seqno rules below decide.
    /// 6. **Some member is unreachable** (state unknown): it may be the one with the newest commits:
    ///    `.blocked`, naming it, the most advanced reachable member and the two ways out — bring the node
    ///    back, or `haha recover --from NODE` accepting the possible loss.
    /// 7. Otherwise **`.recover` from the most advanced member**: the highest effective seqno (the
    ///    `grastate.dat` seqno, or `recovered` when that was -1), ties broken by `order` (the first wins, so
    ///    every node taking the decision independently agrees). `markSafe` is true when its `grastate.dat`
    ///    says `safe_to_bootstrap: 0`: the tool must set it to 1 (`grastateForBootstrap(_:seqno:)`) or Galera
    ///    refuses to bootstrap.
    public static func plan(_ members: [GaleraMember]) -> GaleraPlan {
        let members = members.sorted { ($0.order, $0.node) < ($1.order, $1.node) }
        guard !members.isEmpty else {
            return .blocked(reason: "No database member is defined, so there is nothing to bootstrap.")
        }
        let reachable = members.filter(\.reachable)
        let unreachable = members.filter { !$0.reachable }

        // 1. A live Primary Component.
        let primary = reachable.filter { $0.running && $0.isPrimary }
        if !primary.isEmpty {
            if let reason = splitPrimaryReason(primary) { return .blocked(reason: reason) }
            guard primary.contains(where: { $0.localState == GaleraMember.syncedState }) else {
                // A donor or joiner mid state transfer (an `up` cut off right after the others started joining):
                // nothing is bootstrapped beside it; the caller waits for the transfer and plans again.
                return .transferring(primaryMembers: primary.map(\.node))
            }
            return .healthy(primaryMembers: primary.map(\.node))
        }

        // 2. A brand new cluster.
        let withData = reachable.filter(\.hasData)
        if withData.isEmpty {
            guard unreachable.isEmpty else {
                return .blocked(
                    reason: """
                        No reachable member has a database yet, but \(list(unreachable.map(\.node))) \
                        \(unreachable.count == 1 ? "is" : "are") unreachable and may hold the only copy of the data; \
                        a new cluster would overwrite it when \(unreachable.count == 1 ? "it returns" : "they return"). \
                        Bring \(unreachable.count == 1 ? "it" : "them") back, or run `haha recover --from \
                        \(members[0].node)` to start an empty cluster anyway.
                        """)
            }
            return .bootstrapNew(from: members[0].node)
        }

        // 3. Unrelated histories.
        if let reason = uuidDisagreement(withData) { return .blocked(reason: reason) }

        // 4. Positions that must be recovered before comparing.
        let unknown = withData.filter { $0.effectiveSeqno == nil }
        if !unknown.isEmpty { return .needRecovery(nodes: unknown.map(\.node)) }

        // 5. Galera's own verdict, when no known position contradicts it.
        let safe = withData.filter { $0.grastate?.safeToBootstrap == true }
        let highest = withData.compactMap(\.effectiveSeqno).max() ?? -1
        if safe.count == 1, let chosen = safe.first, (chosen.effectiveSeqno ?? -1) >= highest {
            return .recover(from: chosen.node, seqno: chosen.effectiveSeqno ?? -1, markSafe: false)
        }

        // 7 (computed before 6 so a refusal can name the best candidate).
        let best = mostAdvanced(withData)

        // 6. A member we cannot see may be ahead of all the others.
        if !unreachable.isEmpty {
            let names = unreachable.map(\.node)
            let one = names.count == 1
            return .blocked(
                reason: """
                    No Primary Component is running and \(list(names)) \(one ? "is" : "are") unreachable: \
                    \(one ? "it" : "they") may hold commits no reachable member has, and bootstrapping without \
                    \(one ? "it" : "them") could lose them. The most advanced reachable member is \(best.node) \
                    (seqno \(best.effectiveSeqno ?? -1)). Bring \(list(names)) back, or run \
                    `haha recover --from \(best.node)` to accept losing whatever only \
                    \(one ? "it has" : "they have").
                    """)
        }

        return .recover(
            from: best.node, seqno: best.effectiveSeqno ?? -1,
            markSafe: best.grastate?.safeToBootstrap == false)
    }

    // MARK: - Forced bootstrap

    /// What bootstrapping from `node` against the planner's advice would cost: one line per other member that
    /// holds commits `node` lacks or whose position is unknown. Every member's position must be known
    /// (`needRecovery` answered) for the losses to be exact; unknown ones are listed as such.
    public static func forcedBootstrap(_ members: [GaleraMember], from node: String) -> ForcedBootstrap? {
        guard let chosen = members.first(where: { $0.node == node }) else { return nil }
        let base = chosen.effectiveSeqno ?? -1
        var losses: [String] = []
        for member in members.sorted(by: { $0.order < $1.order }) where member.node != node {
            guard member.reachable else {
                losses.append(
                    "\(member.node) is unreachable: whatever it committed beyond seqno \(base) would be discarded when it returns")
                continue
            }
            guard member.hasData else { continue }
            if let theirs = member.historyUUID, let ours = chosen.historyUUID, theirs != ours {
                losses.append("\(member.node) holds another cluster's data (uuid \(theirs)): all of it would be replaced")
                continue
            }
            guard let seqno = member.effectiveSeqno else {
                losses.append("\(member.node)'s position is unknown: whatever it has beyond seqno \(base) would be discarded")
                continue
            }
            if seqno > base {
                losses.append(
                    "\(member.node) is at seqno \(seqno): its last \(seqno - base) committed transaction\(seqno - base == 1 ? "" : "s") would be discarded"
                )
            }
        }
        return ForcedBootstrap(
            from: node, seqno: base, losses: losses,
            markSafe: chosen.grastate?.safeToBootstrap != true)
    }

    /// A member's `grastate.dat` made ready to bootstrap: `safe_to_bootstrap: 1` and, when the file says
    /// `seqno: -1` (a crash), the position `--wsrep-recover` found — without it Galera would start a new
    /// history. Every other line is kept. This is the text haha writes; nothing else edits the file.
    public static func grastateForBootstrap(_ text: String, seqno: Int64) -> String {
        let marked = markSafeToBootstrap(text)
        guard GraState.parse(marked)?.seqno == -1 else { return marked }
        var lines = marked.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }
        for index in lines.indices {
            guard let (key, _) = GraState.keyValue(lines[index]), key == "seqno" else { continue }
            lines[index] = "seqno:   \(seqno)" + (lines[index].hasSuffix("\r") ? "\r" : "")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Helpers

    /// The member with the highest effective seqno; the first in `order` among equals. `members` is sorted
    /// by order, non-empty, and every position is known.
    static func mostAdvanced(_ members: [GaleraMember]) -> GaleraMember {
        var best = members[0]
        for member in members.dropFirst() where (member.effectiveSeqno ?? -1) > (best.effectiveSeqno ?? -1) {
            best = member
        }
        return best
    }

    private static func splitPrimaryReason(_ primary: [GaleraMember]) -> String? {
        let uuids = Set(primary.compactMap(\.historyUUID))
        let largest = primary.compactMap(\.clusterSize).max()
        let tooMany = largest.map { primary.count > $0 } ?? false
        guard uuids.count > 1 || tooMany else { return nil }
        let detail = primary.map { member in
            "\(member.node) (size \(member.clusterSize.map(String.init) ?? "unknown")"
                + (member.grastate.map { ", uuid \($0.uuid)" } ?? "") + ")"
        }
        return """
            More than one Primary Component is running (split brain): \(list(detail)). Each may have accepted \
            writes the other lacks, so none is chosen automatically. Decide which side to keep, stop the \
            members of the other side, and run `haha recover --from NODE` with a node of the side \
            you keep (the others will receive a full copy of its data).
            """
    }

    private static func uuidDisagreement(_ withData: [GaleraMember]) -> String? {
        var byUUID: [(uuid: String, nodes: [String])] = []
        for member in withData {
            guard let uuid = member.historyUUID else { continue }
            if let index = byUUID.firstIndex(where: { $0.uuid == uuid }) {
                byUUID[index].nodes.append(member.node)
            } else {
                byUUID.append((uuid, [member.node]))
            }
        }
        guard byUUID.count > 1 else { return nil }
        let groups = byUUID.map { "\(list($0.nodes)) \($0.nodes.count == 1 ? "has" : "have") cluster UUID \($0.uuid)" }
        return """
            The members' data belong to different clusters: \(groups.joined(separator: "; ")). Whichever \
            bootstraps, the others' data would be overwritten. Decide which data to keep and run \
            `haha recover --from NODE` with one of its nodes (or move the other data directories \
            aside first if they matter).
            """
    }

    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
        }
    }

    /// `8-4-4-4-12` hexadecimal digits.
    static func isUUID(_ text: Substring) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) && $0.allSatisfy(\.isASCII) }
    }
}

/// The saved state of one Galera member, as in its `grastate.dat`:
/// ```
/// # GALERA saved state
/// version: 2.1
/// uuid:    8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3
/// seqno:   -1
/// safe_to_bootstrap: 0
/// ```
public struct GraState: Sendable, Equatable {
    /// The cluster (history) UUID, lowercased; `GaleraRecovery.nilUUID` when the member never joined.
    public var uuid: String
    /// The last committed seqno; -1 when unknown (the member crashed or is still running).
    public var seqno: Int64
    /// Galera's mark on the last member to leave the Primary Component cleanly.
    public var safeToBootstrap: Bool

    public init(uuid: String, seqno: Int64, safeToBootstrap: Bool) {
        self.uuid = uuid
        self.seqno = seqno
        self.safeToBootstrap = safeToBootstrap
    }

    /// Parses a `grastate.dat`. Comments (`#`), blank lines, unknown keys and extra whitespace are ignored; a
    /// missing `safe_to_bootstrap` (older Galera) means false. Returns nil when `uuid` or `seqno` is missing
    /// or malformed, or `safe_to_bootstrap` is neither 0 nor 1: a state that cannot be read is unknown, and
    /// the planner then asks for `--wsrep-recover` instead of guessing.
    public static func parse(_ text: String) -> GraState? {
        var uuid: String?
        var seqno: Int64?
        var safe = false
        for line in text.split(whereSeparator: \.isNewline) {
            guard let (key, value) = keyValue(line) else { continue }
            switch key {
            case "uuid":
                guard GaleraRecovery.isUUID(Substring(value)) else { return nil }
                uuid = value.lowercased()
            case "seqno":
                guard let number = Int64(value), number >= -1 else { return nil }
                seqno = number
            case "safe_to_bootstrap":
                switch value {
                case "0": safe = false
                case "1": safe = true
                default: return nil
                }
            default:
                continue
            }
        }
        guard let uuid, let seqno else { return nil }
        return GraState(uuid: uuid, seqno: seqno, safeToBootstrap: safe)
    }

    /// `key: value` with the key lowercased and both trimmed; nil for blank lines, comments and lines
    /// without a colon.
    static func keyValue<S: StringProtocol>(_ line: S) -> (key: String, value: String)? {
        let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let colon = content.firstIndex(of: ":") else { return nil }
        let key = trim(content[..<colon]).lowercased()
        guard !key.isEmpty else { return nil }
        return (key, trim(content[content.index(after: colon)...]))
    }

    private static func trim<S: StringProtocol>(_ text: S) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// What is known about one database member when deciding. Fill what could be observed; `reachable: false`
/// means the member's node could not be asked at all (its other fields are then ignored).
public struct GaleraMember: Sendable, Equatable {
    /// `wsrep_local_state` of a member that is Synced.
    public static let syncedState = 4

    /// The node's name in the spec.
    public var node: String
    /// Position of the node in the spec: the stable tie-break (lower first).
    public var order: Int
    /// Whether the node could be inspected at all. An unreachable member may hold data nobody else has.
    public var reachable: Bool
    /// Whether the data directory has been initialised.
    public var hasData: Bool
    /// Whether mariadbd is running and answering.
    public var running: Bool
    /// `wsrep_cluster_status` when running: `Primary`, `non-Primary` or `Disconnected`.
    public var clusterStatus: String?
    /// `wsrep_local_state` when running (4 = Synced).
    public var localState: Int?
    /// `wsrep_cluster_size` when running.
    public var clusterSize: Int?
    /// The parsed `grastate.dat`, nil when missing or unreadable.
    public var grastate: GraState?
    /// The seqno from `mariadbd --wsrep-recover` (or `wsrep_last_committed` for a running member) when the
    /// `grastate.dat` seqno was -1.
    public var recovered: Int64?
    /// The cluster UUID `mariadbd --wsrep-recover` reported with `recovered`, when it ran.
    public var recoveredUUID: String?

    public init(
        node: String, order: Int, reachable: Bool = true, hasData: Bool = false, running: Bool = false,
        clusterStatus: String? = nil, localState: Int? = nil, clusterSize: Int? = nil,
        grastate: GraState? = nil, recovered: Int64? = nil, recoveredUUID: String? = nil
    ) {
        self.node = node
        self.order = order
        self.reachable = reachable
        self.hasData = hasData
        self.running = running
        self.clusterStatus = clusterStatus
        self.localState = localState
        self.clusterSize = clusterSize
        self.grastate = grastate
        self.recovered = recovered
        self.recoveredUUID = recoveredUUID
    }

    /// The history the member's data belongs to: the UUID `--wsrep-recover` read from the data itself, else the
    /// one in `grastate.dat`; nil when neither names a cluster (never joined).
    public var historyUUID: String? {
        if let uuid = recoveredUUID?.lowercased(), uuid != GaleraRecovery.nilUUID { return uuid }
        if let uuid = grastate?.uuid, uuid != GaleraRecovery.nilUUID { return uuid }
        return nil
    }

    /// The member's last committed seqno as far as known: the `grastate.dat` seqno unless it is -1, else
    /// `recovered`; nil when neither is known.
    public var effectiveSeqno: Int64? {
        if let seqno = grastate?.seqno, seqno != -1 { return seqno }
        return recovered
    }

    public var isPrimary: Bool { clusterStatus?.lowercased() == "primary" }
}

/// A bootstrap the user forces from one member: what it discards on the others.
public struct ForcedBootstrap: Sendable, Equatable {
    public var from: String
    public var seqno: Int64
    /// One sentence per member that would lose commits (empty: nothing is lost).
    public var losses: [String]
    /// The member's `grastate.dat` must be marked `safe_to_bootstrap: 1` first.
    public var markSafe: Bool

    public init(from: String, seqno: Int64, losses: [String], markSafe: Bool) {
        self.from = from
        self.seqno = seqno
        self.losses = losses
        self.markSafe = markSafe
    }
}

/// What to do to bring the Galera cluster (back) up; see `GaleraRecovery.plan(_:)` for the rules.
public enum GaleraPlan: Sendable, Equatable {
    /// A Primary Component is running with these members; the others just (re)join it.
    case healthy(primaryMembers: [String])
    /// No member has data: bootstrap a new cluster from this member; the others join.
    case bootstrapNew(from: String)
    /// Bootstrap from this member (the most advanced, at `seqno`), then the others join. When `markSafe`,
    /// set `safe_to_bootstrap: 1` in its `grastate.dat` first.
    case recover(from: String, seqno: Int64, markSafe: Bool)
    /// Run `mariadbd --wsrep-recover` on these members, fill `recovered`, and plan again.
    case needRecovery(nodes: [String])
    /// A Primary Component runs on these members but none is Synced yet: a state transfer is in progress. Wait for
    /// it and plan again; never bootstrap beside it.
    case transferring(primaryMembers: [String])
    /// Refuse: bootstrapping could lose committed writes. The reason says why and what the user can do.
    case blocked(reason: String)
}
