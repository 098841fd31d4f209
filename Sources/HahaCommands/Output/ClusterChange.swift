import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

/// What the commands that change a cluster's machines share (`haha node replace|add|remove`).
enum ClusterChange {
    /// `haha up`'s steps, each printed as `haha up` prints them.
    static func converge(_ cluster: Cluster, haTimeout: Double) async throws {
        let convergence = try Convergence(cluster: cluster, homeAssistantTimeout: haTimeout)
        let printer = StepPrinter()
        var state = Convergence.State()
        for step in convergence.steps {
            _ = try await printer.step("haha up: \(step.title)") { try await step.converge(&state) }
        }
    }

    /// A machine new to the cluster has its own SSH host key: recorded in place of any other for its address and
    /// name (a dead machine's), unless one it shows is already recorded.
    static func recordHostKey(_ workspace: Workspace, _ target: ClusterSpec.Node) async throws {
        guard let file = workspace.spec.knownHostsFile.map(workspace.resolve) else { return }
        let scanned = try await HostKeys.scan([target])
        let current = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let updated = HostKeys.replacing(in: current, hosts: [target.address, target.name], port: target.port, with: scanned)
        guard updated != current else { return }
        try writeFileAtomically(file, contents: updated)
        Console.error("recorded the SSH host key of \(target.name) (\(target.address)) in \(file)")
    }
}

/// The options of the commands that change a cluster's machines (`haha node replace|add|remove`).
struct ChangeOptions: ParsableArguments {
    @Flag(help: "Show the plan and change nothing.")
    var dryRun = false

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Option(help: "Seconds to wait for Home Assistant to answer after the change.")
    var haTimeout: Double = 600
}

/// A typed confirmation for a command that changes the cluster: `--yes`, or the word typed on a terminal; without a
/// terminal (or when the command may not ask: its stdout is JSON for a script), no.
enum Confirmation {
    static func typed(_ word: String, yes: Bool, to what: String, mayAsk: Bool = true) throws -> Bool {
        if yes { return true }
        guard isatty(STDIN_FILENO) == 1, mayAsk else {
            Console.error("not confirmed: run again with --yes to \(what)")
            return false
        }
        Console.error("Type \(word) to \(what): ", terminator: "")
        return readLine()?.trimmingCharacters(in: .whitespaces) == word
    }
}
