import Testing

@testable import HahaCore

private let clusterUUID = "8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3"
private let otherUUID = "1c0c5bd0-6d2e-11ef-9a0b-0242ac120002"

private let crashedState = """
    # GALERA saved state
    version: 2.1
    uuid:    8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3
    seqno:   -1
    safe_to_bootstrap: 0

    """

/// A stopped member with data and the given saved state.
private func stopped(
    _ node: String, _ order: Int, seqno: Int64, safe: Bool = false, uuid: String = clusterUUID,
    recovered: Int64? = nil
) -> GaleraMember {
    GaleraMember(
        node: node, order: order, hasData: true,
        grastate: GraState(uuid: uuid, seqno: seqno, safeToBootstrap: safe), recovered: recovered)
}

/// A running member reporting the given wsrep status.
private func running(
    _ node: String, _ order: Int, status: String, state: Int = 4, size: Int? = 3,
    uuid: String = clusterUUID
) -> GaleraMember {
    GaleraMember(
        node: node, order: order, hasData: true, running: true, clusterStatus: status, localState: state,
        clusterSize: size, grastate: GraState(uuid: uuid, seqno: -1, safeToBootstrap: false))
}

private func unreachable(_ node: String, _ order: Int) -> GaleraMember {
    GaleraMember(node: node, order: order, reachable: false)
}

private func blockedReason(_ plan: GaleraPlan) -> String? {
    if case .blocked(let reason) = plan { return reason }
    return nil
}

@Suite struct GaleraRecoveryTests {
    // MARK: grastate.dat

    @Suite struct GraStateParsing {
        @Test func parsesACrashedMembersFile() {
            #expect(GraState.parse(crashedState) == GraState(uuid: clusterUUID, seqno: -1, safeToBootstrap: false))
        }

        @Test func parsesACleanlyStoppedLastMember() {
            let text = """
                # GALERA saved state
                version: 2.1
                uuid:    8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3
                seqno:   1234
                safe_to_bootstrap: 1

                """
            #expect(GraState.parse(text) == GraState(uuid: clusterUUID, seqno: 1234, safeToBootstrap: true))
        }

        @Test func toleratesWhitespaceCommentsCRLFAndUnknownKeys() {
            let text =
                "  # GALERA saved state\r\n\r\nversion:2.1\r\n\tseqno :\t 42 # after a clean stop\r\n"
                + "   uuid:8BCF4A34-AEDB-11E6-A3E8-5B3CF6A8E4F3   \r\nfuture_key: whatever\r\n"
                + "safe_to_bootstrap:   1   \r\n"
            #expect(GraState.parse(text) == GraState(uuid: clusterUUID, seqno: 42, safeToBootstrap: true))
        }

        @Test func missingSafeToBootstrapMeansFalse() {
            // Galera before 3.19 wrote version 2.1 files without the flag.
            let text = "# GALERA saved state\nversion: 2.1\nuuid: \(clusterUUID)\nseqno: 7\ncert_index:\n"
            #expect(GraState.parse(text) == GraState(uuid: clusterUUID, seqno: 7, safeToBootstrap: false))
        }

        @Test func acceptsTheNilUUIDOfAMemberThatNeverJoined() {
            let text = "version: 2.1\nuuid: 00000000-0000-0000-0000-000000000000\nseqno: -1\nsafe_to_bootstrap: 0\n"
            #expect(GraState.parse(text)?.uuid == GaleraRecovery.nilUUID)
        }

        @Test(arguments: [
            "",
            "# GALERA saved state\n",
            "version: 2.1\nseqno: 12\nsafe_to_bootstrap: 0\n",  // no uuid
            "version: 2.1\nuuid: \(clusterUUID)\nsafe_to_bootstrap: 0\n",  // no seqno
            "uuid: 8bcf4a34-aedb-11e6-a3e8\nseqno: 12\n",  // truncated uuid
            "uuid: 8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4fz\nseqno: 12\n",  // not hex
            "uuid: 8bcf4a34aedb-11e6-a3e8-5b3cf6a8e4f3-\nseqno: 12\n",  // wrong grouping
            "uuid: \(clusterUUID)\nseqno: twelve\n",
            "uuid: \(clusterUUID)\nseqno: -2\n",
            "uuid: \(clusterUUID)\nseqno: 99999999999999999999\n",  // overflows Int64
            "uuid: \(clusterUUID)\nseqno: 12\nsafe_to_bootstrap: yes\n",
            "uuid: \(clusterUUID)\nseqno:\n",
            "\u{0}\u{1}binary garbage without colons",
        ])
        func malformedFilesAreNil(_ text: String) {
            #expect(GraState.parse(text) == nil)
        }
    }

    // MARK: --wsrep-recover output

    @Suite struct RecoveredPositionParsing {
        @Test func readsTheRecoveredPositionFromARealLookingLog() throws {
            let log = """
                2026-11-25 14:02:10 0 [Note] Starting MariaDB 11.8.3-MariaDB-0+deb13u1 source revision as process 31
                2026-11-25 14:02:10 0 [Note] InnoDB: Compressed tables use zlib 1.3.1
                2026-11-25 14:02:10 0 [Note] InnoDB: Starting crash recovery from checkpoint LSN=47712
                2026-11-25 14:02:11 0 [Note] InnoDB: log sequence number 48213; transaction id 1240
                2026-11-25 14:02:11 0 [Note] Server socket created on IP: '0.0.0.0'.
                2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: 8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3:1234
                2026-11-25 14:02:11 0 [Note] mariadbd: Shutdown complete

                """
            let position = try #require(GaleraRecovery.parseRecoveredPosition(log))
            #expect(position.uuid == clusterUUID)
            #expect(position.seqno == 1234)
        }

        @Test func theLastLineWins() throws {
            let log = """
                2026-11-24 09:00:00 0 [Note] WSREP: Recovered position: \(otherUUID):17
                2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: \(clusterUUID):1234
                2026-11-25 14:02:12 0 [Note] mariadbd: Shutdown complete
                """
            let position = try #require(GaleraRecovery.parseRecoveredPosition(log))
            #expect(position.uuid == clusterUUID)
            #expect(position.seqno == 1234)
        }

        @Test func nothingToRecoverIsTheNilUUIDAndMinusOne() throws {
            let log = "2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: 00000000-0000-0000-0000-000000000000:-1\n"
            let position = try #require(GaleraRecovery.parseRecoveredPosition(log))
            #expect(position.uuid == GaleraRecovery.nilUUID)
            #expect(position.seqno == -1)
        }

        @Test func toleratesCRLFTrailingTextAndCase() throws {
            let log =
                "x\r\n2026-11-25 14:02:11 0 [Note] WSREP: recovered position:   8BCF4A34-AEDB-11E6-A3E8-5B3CF6A8E4F3:9  (from InnoDB)\r\n"
            let position = try #require(GaleraRecovery.parseRecoveredPosition(log))
            #expect(position.uuid == clusterUUID)
            #expect(position.seqno == 9)
        }

        @Test(arguments: [
            "",
            "2026-11-25 14:02:11 0 [Note] mariadbd: Shutdown complete\n",
            "2026-11-25 14:02:11 0 [Note] WSREP: Recovered position:\n",
            "2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: \(clusterUUID)\n",  // no seqno
            "2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: \(clusterUUID):\n",
            "2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: \(clusterUUID):abc\n",
            "2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: \(clusterUUID):-5\n",
            "2026-11-25 14:02:11 0 [Note] WSREP: Recovered position: not-a-uuid:12\n",
            // A truncated last line is not silently replaced by an older run's position.
            "[Note] WSREP: Recovered position: \(clusterUUID):1234\n[Note] WSREP: Recovered position: 8bcf4a34-aedb",
        ])
        func malformedOrMissingIsNil(_ log: String) {
            #expect(GaleraRecovery.parseRecoveredPosition(log) == nil)
        }
    }

    // MARK: safe_to_bootstrap

    @Suite struct MarkSafe {
        @Test func flipsTheFlagAndKeepsEverythingElse() {
            let expected = """
                # GALERA saved state
                version: 2.1
                uuid:    8bcf4a34-aedb-11e6-a3e8-5b3cf6a8e4f3
                seqno:   -1
                safe_to_bootstrap: 1

                """
            #expect(GaleraRecovery.markSafeToBootstrap(crashedState) == expected)
        }

        @Test func isIdempotent() {
            let once = GaleraRecovery.markSafeToBootstrap(crashedState)
            #expect(GaleraRecovery.markSafeToBootstrap(once) == once)
        }

        @Test func addsTheFlagToAnOlderFile() {
            let old = "# GALERA saved state\nversion: 2.1\nuuid: \(clusterUUID)\nseqno: 1234\n\n"
            let marked = GaleraRecovery.markSafeToBootstrap(old)
            #expect(marked == "# GALERA saved state\nversion: 2.1\nuuid: \(clusterUUID)\nseqno: 1234\nsafe_to_bootstrap: 1\n\n")
            #expect(GraState.parse(marked) == GraState(uuid: clusterUUID, seqno: 1234, safeToBootstrap: true))
        }

        @Test func addsTheFlagWithoutATrailingNewline() {
            let marked = GaleraRecovery.markSafeToBootstrap("uuid: \(clusterUUID)\nseqno: 3")
            #expect(marked == "uuid: \(clusterUUID)\nseqno: 3\nsafe_to_bootstrap: 1")
        }

        @Test func keepsCRLFLineEndings() {
            let text = "version: 2.1\r\nuuid: \(clusterUUID)\r\nseqno: 5\r\nsafe_to_bootstrap:   0  \r\n"
            #expect(
                GaleraRecovery.markSafeToBootstrap(text)
                    == "version: 2.1\r\nuuid: \(clusterUUID)\r\nseqno: 5\r\nsafe_to_bootstrap: 1\r\n")
        }

        @Test func doesNotTouchAMentionInAComment() {
            let text = "# safe_to_bootstrap: 0 was set by the crash\nuuid: \(clusterUUID)\nseqno: 5\nsafe_to_bootstrap: 0\n"
            #expect(
                GaleraRecovery.markSafeToBootstrap(text)
                    == "# safe_to_bootstrap: 0 was set by the crash\nuuid: \(clusterUUID)\nseqno: 5\nsafe_to_bootstrap: 1\n")
        }

        @Test func theResultParsesAsSafeWithTheSamePosition() {
            let parsed = GraState.parse(GaleraRecovery.markSafeToBootstrap(crashedState))
            #expect(parsed == GraState(uuid: clusterUUID, seqno: -1, safeToBootstrap: true))
        }
    }

    // MARK: Plan: a live Primary Component

    @Suite struct PlanHealthy {
        @Test func aSyncedPrimaryMemberMeansNothingToBootstrap() {
            let plan = GaleraRecovery.plan([
                running("a", 0, status: "Primary", size: 2),
                running("b", 1, status: "Primary", size: 2),
                stopped("c", 2, seqno: -1),
            ])
            #expect(plan == .healthy(primaryMembers: ["a", "b"]))
        }

        @Test func aJoinerInThePrimaryComponentIsListedAndNonPrimaryIsNot() {
            let plan = GaleraRecovery.plan([
                running("c", 2, status: "non-Primary", state: 0, size: 1),
                running("b", 1, status: "Primary", state: 1, size: 2),  // joining
                running("a", 0, status: "Primary", state: 4, size: 2),
            ])
            #expect(plan == .healthy(primaryMembers: ["a", "b"]))
        }

        @Test func stoppedOrUnreachableMembersDoNotPreventJoiningTheLiveComponent() {
            let plan = GaleraRecovery.plan([
                unreachable("a", 0),
                stopped("b", 1, seqno: 99_999, safe: true),
                running("c", 2, status: "Primary", size: 1),
            ])
            #expect(plan == .healthy(primaryMembers: ["c"]))
        }

        @Test func primaryStatusCountsOnlyFromRunningReachableMembers() {
            var ghost = running("a", 0, status: "Primary")
            ghost.reachable = false
            var stale = running("b", 1, status: "Primary")
            stale.running = false
            stale.grastate = GraState(uuid: clusterUUID, seqno: 10, safeToBootstrap: false)
            let plan = GaleraRecovery.plan([ghost, stale, stopped("c", 2, seqno: 12)])
            // Not healthy: a's state is unknown and b is stopped, so this is a blocked recovery (a is unreachable).
            #expect(blockedReason(plan)?.contains("a is unreachable") == true)
        }

        @Test func aPrimaryComponentWithoutASyncedMemberIsWaitedFor() throws {
            let plan = GaleraRecovery.plan([
                running("a", 0, status: "Primary", state: 2, size: 2),  // donor
                running("b", 1, status: "Primary", state: 1, size: 2),  // joiner
                stopped("c", 2, seqno: 50, safe: true),
            ])
            #expect(plan == .transferring(primaryMembers: ["a", "b"]))
        }

        @Test func morePrimaryMembersThanAnyComponentSizeIsASplitBrain() throws {
            let plan = GaleraRecovery.plan([
                running("a", 0, status: "Primary", size: 1),
                running("b", 1, status: "Primary", size: 2),
                running("c", 2, status: "Primary", size: 2),
            ])
            let reason = try #require(blockedReason(plan))
            #expect(reason.contains("split brain"))
            #expect(reason.contains("a (size 1"))
            #expect(reason.contains("haha recover --from NODE"))
        }

        @Test func primaryMembersWithDifferentClusterUUIDsAreASplitBrain() throws {
            let plan = GaleraRecovery.plan([
                running("a", 0, status: "Primary", size: 3, uuid: clusterUUID),
                running("b", 1, status: "Primary", size: 3, uuid: otherUUID),
            ])
            let reason = try #require(blockedReason(plan))
            #expect(reason.contains("split brain"))
            #expect(reason.contains(otherUUID))
        }

        @Test func aSizeReportedByOnlySomeMembersIsEnough() {
            // c already sees all three; a and b reported before c joined. One component, not a split.
            let plan = GaleraRecovery.plan([
                running("a", 0, status: "Primary", size: 2),
                running("b", 1, status: "Primary", size: nil),
                running("c", 2, status: "Primary", state: 1, size: 3),
            ])
            #expect(plan == .healthy(primaryMembers: ["a", "b", "c"]))
        }
    }

    // MARK: Plan: a new cluster

    @Suite struct PlanBootstrapNew {
        @Test func noDataAnywhereBootstrapsTheFirstMemberInOrder() {
            let plan = GaleraRecovery.plan([
                GaleraMember(node: "zeta", order: 2),
                GaleraMember(node: "beta", order: 0),
                GaleraMember(node: "alpha", order: 1),
            ])
            #expect(plan == .bootstrapNew(from: "beta"))
        }

        @Test func aSingleMemberWithoutData() {
            #expect(GaleraRecovery.plan([GaleraMember(node: "pi1", order: 0)]) == .bootstrapNew(from: "pi1"))
        }

        @Test func anUnreachableMemberMightHoldTheData() throws {
            let plan = GaleraRecovery.plan([
                GaleraMember(node: "a", order: 0),
                unreachable("b", 1),
                GaleraMember(node: "c", order: 2),
            ])
            let reason = try #require(blockedReason(plan))
            #expect(reason.contains("b is unreachable"))
            #expect(reason.contains("haha recover --from a"))
        }

        @Test func noMembersIsBlocked() {
            #expect(blockedReason(GaleraRecovery.plan([])) != nil)
        }
    }

    // MARK: Plan: recovery after a stop or a crash

    @Suite struct PlanRecover {
        @Test func theUniqueSafeMemberWinsWhenNoKnownPositionIsHigher() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 150),
                stopped("b", 1, seqno: 150, safe: true),
                stopped("c", 2, seqno: 100),
            ])
            #expect(plan == .recover(from: "b", seqno: 150, markSafe: false))
        }

        @Test func aHigherKnownSeqnoOverridesTheSafeFlag() {
            // The flag is a claim; a member further ahead proves it stale (a forced bootstrap happened since).
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 200),
                stopped("b", 1, seqno: 150, safe: true),
                stopped("c", 2, seqno: 100),
            ])
            #expect(plan == .recover(from: "a", seqno: 200, markSafe: true))
        }

        @Test func theSafeMemberWaitsUntilEveryPositionIsKnown() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: -1),
                stopped("b", 1, seqno: -1),
                stopped("c", 2, seqno: 300, safe: true),
            ])
            #expect(plan == .needRecovery(nodes: ["a", "b"]))
            let recovered = GaleraRecovery.plan([
                stopped("a", 0, seqno: -1, recovered: 300),
                stopped("b", 1, seqno: -1, recovered: 310),
                stopped("c", 2, seqno: 300, safe: true),
            ])
            #expect(recovered == .recover(from: "b", seqno: 310, markSafe: true))
        }

        @Test func theUUIDFromWsrepRecoverCountsForDisagreement() {
            var crashed = stopped("b", 1, seqno: -1, recovered: 40)
            crashed.recoveredUUID = otherUUID
            let plan = GaleraRecovery.plan([stopped("a", 0, seqno: 30), crashed, stopped("c", 2, seqno: 20)])
            #expect(blockedReason(plan)?.contains("b has cluster UUID \(otherUUID)") == true)
        }

        @Test func theUniqueSafeMemberIsEnoughWhenAnotherIsUnreachable() {
            let plan = GaleraRecovery.plan([
                unreachable("a", 0),
                stopped("b", 1, seqno: 300, safe: true),
                stopped("c", 2, seqno: 280),
            ])
            #expect(plan == .recover(from: "b", seqno: 300, markSafe: false))
        }

        @Test func twoSafeMembersFallBackToSeqno() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 80, safe: true),
                stopped("b", 1, seqno: 95),
                stopped("c", 2, seqno: 90, safe: true),
            ])
            #expect(plan == .recover(from: "b", seqno: 95, markSafe: true))
        }

        @Test func twoSafeMembersFallBackToSeqnoAndTheWinnerMayAlreadyBeSafe() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 80, safe: true),
                stopped("b", 1, seqno: 70),
                stopped("c", 2, seqno: 90, safe: true),
            ])
            #expect(plan == .recover(from: "c", seqno: 90, markSafe: false))
        }

        @Test func theHighestSeqnoBootstrapsAndMustBeMarkedSafe() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 1200),
                stopped("b", 1, seqno: 1234),
                stopped("c", 2, seqno: 1199),
            ])
            #expect(plan == .recover(from: "b", seqno: 1234, markSafe: true))
        }

        @Test func theRecoveredSeqnoStandsInForMinusOne() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: -1, recovered: 1240),
                stopped("b", 1, seqno: -1, recovered: 1239),
                stopped("c", 2, seqno: 1100),
            ])
            #expect(plan == .recover(from: "a", seqno: 1240, markSafe: true))
        }

        @Test func theGrastateSeqnoIsPreferredOverAStaleRecoveredValue() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 500, recovered: 9_000),
                stopped("b", 1, seqno: 600),
            ])
            #expect(plan == .recover(from: "b", seqno: 600, markSafe: true))
        }

        @Test func tiesGoToTheFirstMemberInOrderWhateverTheInputOrder() {
            let members = [
                stopped("c", 2, seqno: 700),
                stopped("b", 1, seqno: -1, recovered: 700),
                stopped("a", 3, seqno: 700),
                stopped("d", 0, seqno: 650),
            ]
            #expect(GaleraRecovery.plan(members) == .recover(from: "b", seqno: 700, markSafe: true))
            #expect(GaleraRecovery.plan(members.reversed()) == .recover(from: "b", seqno: 700, markSafe: true))
        }

        @Test func membersWithoutDataAreIgnored() {
            var wiped = stopped("a", 0, seqno: 9_999)
            wiped.hasData = false
            let plan = GaleraRecovery.plan([wiped, stopped("b", 1, seqno: 10), stopped("c", 2, seqno: 11)])
            #expect(plan == .recover(from: "c", seqno: 11, markSafe: true))
        }

        @Test func aMemberWithoutGrastateButWithARecoveredSeqnoNeedsNoMarking() {
            let bare = GaleraMember(node: "a", order: 0, hasData: true, recovered: 42)
            let plan = GaleraRecovery.plan([bare, stopped("b", 1, seqno: 41)])
            #expect(plan == .recover(from: "a", seqno: 42, markSafe: false))
        }

        @Test func runningNonPrimaryMembersRecoverFromTheirLastCommitted() {
            // After losing quorum every member is up but non-Primary; the caller filled wsrep_last_committed.
            var a = running("a", 0, status: "non-Primary", state: 0, size: 1)
            a.recovered = 310
            var b = running("b", 1, status: "non-Primary", state: 0, size: 1)
            b.recovered = 312
            #expect(GaleraRecovery.plan([a, b]) == .recover(from: "b", seqno: 312, markSafe: true))
        }

        @Test func aNeverJoinedMemberRanksLast() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: -1, uuid: GaleraRecovery.nilUUID, recovered: -1),
                stopped("b", 1, seqno: 3),
            ])
            #expect(plan == .recover(from: "b", seqno: 3, markSafe: true))
        }
    }

    // MARK: Plan: positions still unknown

    @Suite struct PlanNeedRecovery {
        @Test func unknownPositionsMustBeRecoveredFirst() {
            let plan = GaleraRecovery.plan([
                stopped("c", 2, seqno: -1),
                stopped("a", 0, seqno: 100),
                stopped("b", 1, seqno: -1),
            ])
            #expect(plan == .needRecovery(nodes: ["b", "c"]))
        }

        @Test func aMissingGrastateIsAnUnknownPosition() {
            let bare = GaleraMember(node: "b", order: 1, hasData: true)
            let plan = GaleraRecovery.plan([stopped("a", 0, seqno: 100), bare])
            #expect(plan == .needRecovery(nodes: ["b"]))
        }

        @Test func twoSafeMembersDoNotExcuseUnknownPositions() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 80, safe: true),
                stopped("b", 1, seqno: -1),
                stopped("c", 2, seqno: 90, safe: true),
            ])
            #expect(plan == .needRecovery(nodes: ["b"]))
        }

        @Test func afterRecoveryThePlanMovesOn() {
            var members = [stopped("a", 0, seqno: -1), stopped("b", 1, seqno: -1), stopped("c", 2, seqno: -1)]
            #expect(GaleraRecovery.plan(members) == .needRecovery(nodes: ["a", "b", "c"]))
            for (index, seqno) in [Int64(17), 19, 19].enumerated() { members[index].recovered = seqno }
            #expect(GaleraRecovery.plan(members) == .recover(from: "b", seqno: 19, markSafe: true))
        }

        @Test func recoveryComesBeforeRefusingForAnUnreachableMember() {
            let plan = GaleraRecovery.plan([unreachable("a", 0), stopped("b", 1, seqno: -1), stopped("c", 2, seqno: 5)])
            #expect(plan == .needRecovery(nodes: ["b"]))
        }
    }

    // MARK: Plan: refusals

    @Suite struct PlanBlocked {
        @Test func differentClusterUUIDsAreNamed() throws {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 100, uuid: clusterUUID),
                stopped("b", 1, seqno: 5, uuid: otherUUID),
                stopped("c", 2, seqno: 90, uuid: clusterUUID),
            ])
            let reason = try #require(blockedReason(plan))
            #expect(reason.contains("a and c have cluster UUID \(clusterUUID)"))
            #expect(reason.contains("b has cluster UUID \(otherUUID)"))
            #expect(reason.contains("haha recover --from NODE"))
        }

        @Test func uuidDisagreementWinsOverASafeMember() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 100, safe: true, uuid: clusterUUID),
                stopped("b", 1, seqno: 5, uuid: otherUUID),
            ])
            #expect(blockedReason(plan)?.contains("different clusters") == true)
        }

        @Test func theNilUUIDIsNotADisagreement() {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: -1, uuid: GaleraRecovery.nilUUID, recovered: -1),
                stopped("b", 1, seqno: 5, uuid: otherUUID),
            ])
            #expect(plan == .recover(from: "b", seqno: 5, markSafe: true))
        }

        @Test func anUnreachableMemberWithPossibleDataIsNotBootstrappedAround() throws {
            let plan = GaleraRecovery.plan([
                stopped("a", 0, seqno: 400),
                unreachable("b", 1),
                stopped("c", 2, seqno: -1, recovered: 410),
            ])
            let reason = try #require(blockedReason(plan))
            #expect(reason.contains("b is unreachable"))
            #expect(reason.contains("most advanced reachable member is c (seqno 410)"))
            #expect(reason.contains("Bring b back"))
            #expect(reason.contains("haha recover --from c"))
        }

        @Test func severalUnreachableMembersAreAllNamed() throws {
            let plan = GaleraRecovery.plan([unreachable("a", 0), unreachable("b", 1), stopped("c", 2, seqno: 3)])
            let reason = try #require(blockedReason(plan))
            #expect(reason.contains("a and b are unreachable"))
            #expect(reason.contains("haha recover --from c"))
        }
    }

    // MARK: Forced bootstrap

    @Suite struct Forced {
        @Test func namesEveryCommitThatWouldBeDiscarded() throws {
            var other = stopped("c", 2, seqno: 5)
            other.recoveredUUID = otherUUID
            let report = try #require(
                GaleraRecovery.forcedBootstrap(
                    [
                        stopped("a", 0, seqno: 100), stopped("b", 1, seqno: 130), other, unreachable("d", 3),
                    ], from: "a"))
            #expect(report.seqno == 100)
            #expect(report.markSafe)
            #expect(
                report.losses == [
                    "b is at seqno 130: its last 30 committed transactions would be discarded",
                    "c holds another cluster's data (uuid \(otherUUID)): all of it would be replaced",
                    "d is unreachable: whatever it committed beyond seqno 100 would be discarded when it returns",
                ])
        }

        @Test func theMostAdvancedMemberLosesNothing() throws {
            let report = try #require(
                GaleraRecovery.forcedBootstrap(
                    [
                        stopped("a", 0, seqno: 100), stopped("b", 1, seqno: 130, safe: true), stopped("c", 2, seqno: -1, recovered: 129),
                    ], from: "b"))
            #expect(report.losses.isEmpty)
            #expect(!report.markSafe)
        }

        @Test func anUnknownMemberIsNamed() {
            #expect(
                GaleraRecovery.forcedBootstrap([stopped("a", 0, seqno: 1), stopped("b", 1, seqno: -1)], from: "a")?.losses
                    == ["b's position is unknown: whatever it has beyond seqno 1 would be discarded"])
            #expect(GaleraRecovery.forcedBootstrap([stopped("a", 0, seqno: 1)], from: "x") == nil)
        }

        @Test func theGrastateWrittenForBootstrapCarriesTheRecoveredPosition() {
            let text = GaleraRecovery.grastateForBootstrap(crashedState, seqno: 1234)
            #expect(GraState.parse(text) == GraState(uuid: clusterUUID, seqno: 1234, safeToBootstrap: true))
            #expect(text.hasPrefix("# GALERA saved state\nversion: 2.1\n"))
            // A clean shutdown's seqno is kept as it is.
            let clean = "uuid: \(clusterUUID)\nseqno: 77\nsafe_to_bootstrap: 0\n"
            #expect(GraState.parse(GaleraRecovery.grastateForBootstrap(clean, seqno: 5))?.seqno == 77)
        }
    }

    // MARK: Helpers

    @Test func effectiveSeqnoPrefersGrastateThenRecovered() {
        #expect(stopped("a", 0, seqno: 5, recovered: 9).effectiveSeqno == 5)
        #expect(stopped("a", 0, seqno: -1, recovered: 9).effectiveSeqno == 9)
        #expect(stopped("a", 0, seqno: -1).effectiveSeqno == nil)
        #expect(GaleraMember(node: "a", order: 0, hasData: true).effectiveSeqno == nil)
    }

    @Test func listsReadAsEnglish() {
        #expect(GaleraRecovery.list([]) == "")
        #expect(GaleraRecovery.list(["a"]) == "a")
        #expect(GaleraRecovery.list(["a", "b"]) == "a and b")
        #expect(GaleraRecovery.list(["a", "b", "c"]) == "a, b and c")
    }
}

@Suite struct RecoveredPositionWithGTIDTests {
    @Test func gtidSuffixIsIgnored() throws {
        let log = "2026-11-25 13:35:15 0 [Note] WSREP: Recovered position: 79aa147c-e8d4-11f1-bfa9-83813c830b80:16,0-1-6\n"
        let position = try #require(GaleraRecovery.parseRecoveredPosition(log))
        #expect(position.uuid == "79aa147c-e8d4-11f1-bfa9-83813c830b80")
        #expect(position.seqno == 16)
    }
}
