import Foundation
import HahaCore

/// Builds the lab's images offline: Debian roots with debootstrap + `docker import`, then the recipes with
/// `docker build`. Everything is cached under `cacheDirectory` and in the Docker engine, keyed by recipe hash,
/// so a warm run only checks that the tags exist.
public struct LabImages: Sendable {
    public var runner: any CommandRunner
    public var cacheDirectory: URL
    public var mirror = "http://deb.debian.org/debian"
    public var progress: @Sendable (String) -> Void

    public init(runner: any CommandRunner = LocalRunner(), cacheDirectory: URL = URL(fileURLWithPath: "/var/cache/haha"),
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.runner = runner
        self.cacheDirectory = cacheDirectory
        self.progress = progress
    }

    /// Which Debian release each recipe builds on (Home Assistant 2026.11 needs forky's Python 3.14).
    public static func suite(of recipe: String) -> String { recipe == "homeassistant" ? "forky" : "trixie" }

    /// Tag the lab spec uses for each service recipe.
    public static let serviceTags: [String: String] = [
        "mariadb": LabLayout.serviceImages.mariadb,
        "mosquitto": LabLayout.serviceImages.mosquitto,
        "haproxy": LabLayout.serviceImages.haproxy,
        "homeassistant": LabLayout.serviceImages.homeAssistant,
    ]

    func imageExists(_ tag: String) async throws -> Bool {
        try await runner.run(Command(["docker", "image", "inspect", "--format", "{{.Id}}", tag], timeout: 30)).succeeded
    }

    /// A minimal Debian root imported as an image; debootstrap runs only when its cache is missing.
    public func root(_ suite: String) async throws -> String {
        let key = SHA512.hex(Array(SHA512.hash(Array("debootstrap minbase \(suite) \(mirror) v1".utf8)).prefix(6)))
        let tag = "haha-lab/root:\(suite)-\(key)"
        if try await imageExists(tag) { return tag }
        let directory = cacheDirectory.appendingPathComponent("roots/\(suite)-\(key)")
        let done = directory.appendingPathComponent(".haha-complete")
        if !FileManager.default.fileExists(atPath: done.path) {
            progress("debootstrap \(suite) into \(directory.path) (about a minute, once)")
            try? FileManager.default.removeItem(at: directory)
            var arguments = ["debootstrap", "--variant=minbase", suite, directory.path, mirror]
            // debootstrap releases older than the suite know it under sid's script.
            if !FileManager.default.fileExists(atPath: "/usr/share/debootstrap/scripts/\(suite)") {
                arguments.append("/usr/share/debootstrap/scripts/sid")
            }
            try await runner.check(arguments, timeout: 900, hint: "debootstrap needs the Debian archive (\(mirror)); check the network, then run again")
            if suite == "forky" || suite == "sid" {
                // Testing's Release file may be past its Valid-Until on the archive; apt must not refuse it.
                try "Acquire::Check-Valid-Until \"false\";\n".write(
                    to: directory.appendingPathComponent("etc/apt/apt.conf.d/99haha-no-valid-until"), atomically: true, encoding: .utf8)
            }
            _ = FileManager.default.createFile(atPath: done.path, contents: Data())
        }
        progress("docker import \(tag)")
        try await runner.shell("tar -C \(shellQuote(directory.path)) --exclude=./.haha-complete -c . | docker import - \(shellQuote(tag))", timeout: 600)
        return tag
    }

    /// Builds a recipe on its Debian root; returns the content-addressed tag (`haha-lab/NAME:KEY`).
    public func build(_ name: String) async throws -> String {
        let base = try await root(Self.suite(of: name))
        let recipe = Recipe.named(name)
        guard !recipe.files.isEmpty else { throw HahaError(.notFound, "no recipe named \(name)") }
        let extra = try extraContext(for: name)
        let key = recipe.key(base: base, extra: extra.map { "\($0.path) \(SHA512.hex(Array(SHA512.hash(Array($0.data)).prefix(8))))" })
        let tag = "haha-lab/\(name)-build:\(key)"
        if try await imageExists(tag) { return tag }
        let context = cacheDirectory.appendingPathComponent("build/\(name)-\(key)")
        try recipe.writeContext(to: context, base: base)
        for file in extra { try file.data.write(to: context.appendingPathComponent(file.path)) }
        let wheels = cacheDirectory.appendingPathComponent("wheels").path
        if name == "homeassistant" {
            // PyPI wheels from earlier builds (hard links, not copies); an empty directory on a new machine.
            try await runner.shell("mkdir -p \(shellQuote(context.path))/wheels && if [ -d \(shellQuote(wheels)) ]; then cp -al \(shellQuote(wheels))/. \(shellQuote(context.path))/wheels/; fi", timeout: 120)
        }
        progress("docker build \(tag) (recipe \(name))")
        let log = cacheDirectory.appendingPathComponent("build/\(name)-\(key).log").path
        try await runner.shell(
            "DOCKER_BUILDKIT=0 docker build -t \(shellQuote(tag)) \(shellQuote(context.path)) > \(shellQuote(log)) 2>&1 || { tail -n 30 \(shellQuote(log)) >&2; exit 1; }",
            timeout: 3600, hint: "the full build log is \(log)")
        if name == "homeassistant" {
            // Keep every wheel the build used, so the next build needs no PyPI.
            try await runner.check(["sh", context.appendingPathComponent("export-wheels.sh").path, context.path, wheels], timeout: 600)
        }
        return tag
    }

    /// Files a recipe needs beside its own (the host's CA bundle: package downloads go through a TLS proxy here).
    func extraContext(for name: String) throws -> [(path: String, data: Data)] {
        guard name == "homeassistant" else { return [] }
        let bundle = "/etc/ssl/certs/ca-certificates.crt"
        guard let data = FileManager.default.contents(atPath: bundle) else { return [] }
        return [("ca.crt", data)]
    }

    /// Builds the node image.
    public func node() async throws -> String {
        try await build("node")
    }

    /// Builds every service image and tags it with the name the lab spec uses (`haha-lab/mariadb:11.8`, …).
    public func services(_ names: [String] = ["mariadb", "mosquitto", "haproxy", "homeassistant"]) async throws -> [String: String] {
        var tags: [String: String] = [:]
        for name in names {
            let built = try await build(name)
            guard let tag = Self.serviceTags[name] else { continue }
            try await runner.check(["docker", "tag", built, tag], timeout: 30)
            tags[name] = tag
        }
        return tags
    }
}
