import Foundation
import HahaCore

/// Builds the lab's images offline: Debian roots with debootstrap + `docker import`, then the recipes with
/// `docker build`. Everything is cached under `cacheDirectory` and in the Docker engine, keyed by recipe hash,
/// so a warm run only checks that the tags exist.
public struct LabImages: Sendable {
    public var runner: any CommandRunner
    public var cache: BuildCache
    /// The Debian archive for debootstrap (and so for the recipes' apt): see `DebianMirror`.
    public var mirror: String
    public var progress: @Sendable (String) -> Void

    public var cacheDirectory: URL { cache.directory }

    public init(
        runner: any CommandRunner = LocalRunner(), cacheDirectory: URL = URL(fileURLWithPath: "/var/cache/haha"),
        mirror: String, progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.runner = runner
        self.cache = BuildCache(directory: cacheDirectory, progress: progress)
        self.mirror = mirror
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

    static func shortHash(_ text: String) -> String { SHA512.prefixHex(text.utf8, bytes: 6) }

    /// A minimal Debian root imported as an image; debootstrap runs only when its cache entry is missing.
    public func root(_ suite: String) async throws -> String {
        let key = Self.shortHash("debootstrap minbase \(suite) \(mirror) v2")
        let tag = "haha-lab/root:\(suite)-\(key)"
        try await cache.entry("image \(tag)", present: { try await imageExists(tag) }) {
            let directory = try await cache.directoryEntry("roots/\(suite)-\(key)") { target in
                progress("debootstrap \(suite) from \(mirror) into \(target.path) (about a minute, once)")
                var arguments = ["debootstrap", "--variant=minbase", suite, target.path, mirror]
                // debootstrap releases older than the suite know it under sid's script.
                if !FileManager.default.fileExists(atPath: "/usr/share/debootstrap/scripts/\(suite)") {
                    arguments.append("/usr/share/debootstrap/scripts/sid")
                }
                try await runner.check(
                    arguments, timeout: 900,
                    hint:
                        "debootstrap needs the Debian archive \(mirror) (from --mirror, $\(DebianMirror.environmentVariable) or this host's apt sources); check it, then run again"
                )
                if suite == "forky" || suite == "sid" {
                    // Testing's Release file may be past its Valid-Until on the archive; apt must not refuse it.
                    try "Acquire::Check-Valid-Until \"false\";\n".write(
                        to: target.appendingPathComponent("etc/apt/apt.conf.d/99haha-no-valid-until"), atomically: true, encoding: .utf8)
                }
            }
            progress("docker import \(tag)")
            try await runner.shell("tar -C \(shellQuote(directory.path)) -c . | docker import - \(shellQuote(tag))", timeout: 600)
        }
        return tag
    }

    /// Builds a recipe on its Debian root; returns the content-addressed tag (`haha-lab/NAME-build:KEY`).
    public func build(_ name: String) async throws -> String {
        let base = try await root(Self.suite(of: name))
        let recipe = try Recipe.named(name)
        let extra = try extraContext(for: name)
        let key = recipe.key(base: base, extra: extra.map { "\($0.path) \(SHA512.prefixHex($0.data, bytes: 8))" })
        let tag = "haha-lab/\(name)-build:\(key)"
        try await cache.entry("image \(tag)", present: { try await imageExists(tag) }) {
            let context = try cache.scratchDirectory("build/\(name)-\(key)")
            defer { try? FileManager.default.removeItem(at: context) }
            try recipe.writeContext(to: context, base: base)
            for file in extra { try file.data.write(to: context.appendingPathComponent(file.path)) }
            progress("docker build \(tag) (recipe \(name))")
            let log = cacheDirectory.appendingPathComponent("build/\(name)-\(key).log").path
            let dockerBuild =
                "DOCKER_BUILDKIT=0 docker build -t \(shellQuote(tag)) \(shellQuote(context.path)) > \(shellQuote(log)) 2>&1 || { tail -n 30 \(shellQuote(log)) >&2; exit 1; }"
            guard name == "homeassistant" else {
                try await runner.shell(dockerBuild, timeout: 3600, hint: "the full build log is \(log)")
                return
            }
            // PyPI wheels from earlier builds (hard links, not copies; none on a new machine), and afterwards every wheel
            // the build used, so the next build needs no PyPI. One writer of the wheel cache at a time.
            let wheels = cacheDirectory.appendingPathComponent("wheels").path
            try await cache.withLock("wheels") {
                try await runner.shell(
                    "mkdir -p \(shellQuote(context.path))/wheels && if [ -d \(shellQuote(wheels)) ]; then cp -al \(shellQuote(wheels))/. \(shellQuote(context.path))/wheels/; fi",
                    timeout: 120)
            }
            try await runner.shell(dockerBuild, timeout: 3600, hint: "the full build log is \(log)")
            try await cache.withLock("wheels") {
                try await runner.check(["sh", context.appendingPathComponent("export-wheels.sh").path, context.path, wheels], timeout: 600)
            }
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
    /// Home Assistant's long build runs beside the others (each entry has its own lock, so this is safe).
    public func services(_ names: [String] = ["mariadb", "mosquitto", "haproxy", "homeassistant"]) async throws -> [String: String] {
        for name in names where Self.serviceTags[name] == nil {
            throw HahaError.invalidArgument(
                "no service image recipe named \(name)", next: "choose from \(Self.serviceTags.keys.sorted().joined(separator: ", "))")
        }
        let slow = names.filter { $0 == "homeassistant" }
        let rest = names.filter { $0 != "homeassistant" }
        return try await withThrowingTaskGroup(of: [String: String].self) { group in
            for batch in [slow, rest] where !batch.isEmpty {
                group.addTask {
                    var tags: [String: String] = [:]
                    for name in batch {
                        let built = try await build(name)
                        guard let tag = Self.serviceTags[name] else { continue }
                        try await runner.check(["docker", "tag", built, tag], timeout: 30)
                        tags[name] = tag
                    }
                    return tags
                }
            }
            var all: [String: String] = [:]
            for try await tags in group { all.merge(tags) { first, _ in first } }
            return all
        }
    }
}
