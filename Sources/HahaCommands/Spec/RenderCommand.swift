import ArgumentParser
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
        if let notice = Renderer.failoverNotice(workspace.spec) { Console.error(notice) }
        let files = try Renderer(spec: workspace.spec, secrets: workspace.readSecrets()).render()
        try SpecFiles.writeRendered(files, to: out)
        if json {
            try Console.json(files.map { ["path": "\(out)/\($0.path)", "secret": $0.isSecret ? "true" : "false"] })
        } else {
            for file in files { Console.out("\(out)/\(file.path)") }
            Console.error(
                "rendered \(files.count) files into \(out); deploy by hand with `docker stack deploy -c \(out)/stack.yml \(workspace.spec.stackName)` (see README), or run `haha up`"
            )
        }
    }
}
