import ArgumentParser
import Foundation
import HahaCore
import HahaSystem

struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write the Swarm stack file and every file it mounts into a directory.",
        discussion: "Secret files go to DIR/secrets (mode 0700, files 0600). Nothing is written if the spec is invalid.")

    @OptionGroup var spec: SpecOptions

    @Option(help: "Directory to write into (created if missing).")
    var out: String

    @Flag(help: "Print the written files as JSON.")
    var json = false

    func run() async throws {
        let workspace = try spec.loadValid()
        let files = try Renderer(spec: workspace.spec, secrets: workspace.readSecrets()).render()
        try RenderedTree.write(files, to: out)
        if json {
            try Console.json(files.map { ["path": "\(out)/\($0.path)", "secret": $0.isSecret ? "true" : "false"] })
        } else {
            for file in files { Console.out("\(out)/\(file.path)") }
            Console.error("rendered \(files.count) files into \(out); deploy by hand with `docker stack deploy -c \(out)/stack.yml \(workspace.spec.stackName)` (see README), or run `haha up`")
        }
    }
}

/// Writes rendered files under a directory: secrets private, everything else world-readable.
enum RenderedTree {
    static func write(_ files: [RenderedFile], to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if files.contains(where: \.isSecret) {
            let secrets = "\(directory)/secrets"
            try fm.createDirectory(atPath: secrets, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: secrets)
        }
        for file in files {
            try writeFileAtomically("\(directory)/\(file.path)", contents: file.contents, mode: file.isSecret ? 0o600 : 0o644)
        }
    }
}
