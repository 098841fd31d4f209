import Foundation
import Testing

@testable import HahaSystem

/// Counts calls across concurrent tasks.
actor Counter {
    var value = 0
    func increment() -> Int {
        value += 1
        return value
    }
}

@Suite struct BuildCacheTests {
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("haha-cache-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func concurrentBuildersOfOneDirectoryBuildItOnceAndSeeTheSameResult() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = BuildCache(directory: root)
        let builds = Counter()
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let entry = try await cache.directoryEntry("roots/trixie-abc") { target in
                        let number = await builds.increment()
                        // A slow, multi-file build: a reader that did not wait would see it half-written.
                        try Data("part one of build \(number)\n".utf8).write(to: target.appendingPathComponent("one"))
                        try await Task.sleep(for: .milliseconds(300))
                        try Data("part two of build \(number)\n".utf8).write(to: target.appendingPathComponent("two"))
                    }
                    let one = try String(contentsOf: entry.appendingPathComponent("one"), encoding: .utf8)
                    let two = try String(contentsOf: entry.appendingPathComponent("two"), encoding: .utf8)
                    return one + two
                }
            }
            var all: [String] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(await builds.value == 1)
        #expect(Set(results).count == 1)
        #expect(results.first == "part one of build 1\npart two of build 1\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("roots").path)
        #expect(leftovers == ["trixie-abc"])
    }

    @Test func concurrentBuildersOfAnExternalEntryBuildOnce() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = BuildCache(directory: root)
        let builds = Counter()
        let marker = root.appendingPathComponent("image-exists")
        let built = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await cache.entry("image haha-lab/x:1", present: { FileManager.default.fileExists(atPath: marker.path) }) {
                        _ = await builds.increment()
                        try await Task.sleep(for: .milliseconds(200))
                        try Data().write(to: marker)
                    }
                }
            }
            var all: [Bool] = []
            for try await value in group { all.append(value) }
            return all
        }
        #expect(await builds.value == 1)
        #expect(built.filter { $0 }.count == 1)
    }

    @Test func aHalfBuiltEntryOfAKilledRunIsNeverUsedAndIsRemoved() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = BuildCache(directory: root)
        // What a builder killed mid-way leaves: a temporary beside the entry, never the entry itself.
        let stale = root.appendingPathComponent("roots/forky-1.tmp-99999-DEADBEEF")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        try Data("half".utf8).write(to: stale.appendingPathComponent("one"))
        let entry = try await cache.directoryEntry("roots/forky-1") { target in
            #expect(try FileManager.default.contentsOfDirectory(atPath: target.path).isEmpty)
            try Data("whole".utf8).write(to: target.appendingPathComponent("one"))
        }
        #expect(try String(contentsOf: entry.appendingPathComponent("one"), encoding: .utf8) == "whole")
        #expect(!FileManager.default.fileExists(atPath: stale.path))
    }

    @Test func aFailedBuildLeavesNoEntryAndTheNextBuildRuns() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = BuildCache(directory: root)
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await cache.directoryEntry("build/x") { target in
                try Data("partial".utf8).write(to: target.appendingPathComponent("f"))
                throw Boom()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("build").path).isEmpty)
        let builds = Counter()
        try await cache.directoryEntry("build/x") { _ in _ = await builds.increment() }
        try await cache.directoryEntry("build/x") { _ in _ = await builds.increment() }
        #expect(await builds.value == 1)
    }

    /// flock(2) locks belong to an open file description, so a second `open` of the lock file (as another process
    /// would make) must wait for the first holder, however long it holds the lock, and get it once it is released.
    @Test func aHeldLockIsWaitedForUntilReleased() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = BuildCache(directory: root).lockPath("roots/trixie-x")
        let first = try await FileLock.acquire(path)
        let waited = Counter()
        let second = Task { try await FileLock.acquire(path) { Task { _ = await waited.increment() } } }
        // However long the first holder keeps it, the second has not got it: it is waiting.
        // A generous deadline: on a loaded 2-core machine the waiting task may take seconds to be scheduled.
        let deadline = ContinuousClock.now + .seconds(120)
        while await waited.value == 0 {
            guard ContinuousClock.now < deadline else {
                Issue.record("the second acquirer never waited: the lock did not exclude it")
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(flockHeld(path))
        first.release()
        let lock = try await second.value
        #expect(flockHeld(path))
        lock.release()
        #expect(!flockHeld(path))
        #expect(await waited.value == 1)
    }

    /// Whether someone holds the lock (probed with a description of our own, released at once).
    func flockHeld(_ path: String) -> Bool {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) != 0
    }
}

@Suite struct DebianMirrorTests {
    static func etcApt(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("haha-apt-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sources.list.d"), withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: root.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return root.path
    }

    @Test func overrideThenEnvironmentThenHostSources() throws {
        let etc = try Self.etcApt([
            "sources.list.d/a-vendor.list": "deb https://vendor.example.com/apt stable-vendor main\n",
            "sources.list.d/debian.sources": "Types: deb\nURIs: http://host.example.org/debian/\nSuites: bookworm\nComponents: main\n",
            "sources.list.d/old.list.disabled": "deb http://ignored.example.org/debian bookworm main\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: etc) }
        #expect(try DebianMirror.resolve(override: nil, environment: [:], etcApt: etc) == "http://host.example.org/debian")
        #expect(
            try DebianMirror.resolve(override: nil, environment: ["HAHA_DEBIAN_MIRROR": "http://env.example.org/debian/"], etcApt: etc)
                == "http://env.example.org/debian")
        #expect(
            try DebianMirror.resolve(
                override: "http://flag.example.org/debian", environment: ["HAHA_DEBIAN_MIRROR": "http://env.example.org/d"],
                etcApt: etc) == "http://flag.example.org/debian")
    }

    @Test func aHostWithoutADebianSourceGetsAnErrorThatSaysHowToSetOne() throws {
        let etc = try Self.etcApt(["sources.list": "# nothing\n"])
        defer { try? FileManager.default.removeItem(atPath: etc) }
        do {
            _ = try DebianMirror.resolve(override: nil, environment: [:], etcApt: etc)
            Issue.record("resolved a mirror from no source")
        } catch let error as HahaError {
            #expect(error.description.contains("--mirror"))
            #expect(error.description.contains("HAHA_DEBIAN_MIRROR"))
        }
        #expect(throws: HahaError.self) { try DebianMirror.resolve(override: "mirror; rm -rf /", environment: [:], etcApt: etc) }
    }
}
