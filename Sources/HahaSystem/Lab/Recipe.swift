import Foundation
import HahaCore

/// An image recipe (Dockerfile and the files beside it). The sources are in Sources/HahaSystem/Recipes; SwiftPM copies
/// them into a resource bundle beside the built executable (`haha_HahaSystem.resources`), where `haha lab` reads them.
struct Recipe: Sendable {
    struct File: Sendable, Equatable {
        var path: String
        var executable: Bool
        var data: Data
    }

    var name: String
    var files: [File]

    /// The recipe named `name` (node, mariadb, mosquitto, haproxy, homeassistant) from the resource bundle.
    static func named(_ name: String) throws -> Recipe {
        try named(name, in: directory())
    }

    /// The recipe in `root/name`: every file but the Markdown notes, sorted by path.
    static func named(_ name: String, in root: URL) throws -> Recipe {
        let fm = FileManager.default
        let directory = root.appendingPathComponent(name)
        guard !name.isEmpty, !name.contains("/"), let walker = fm.enumerator(atPath: directory.path) else {
            throw HahaError(
                .notFound, "no recipe named \(name) in \(root.path)",
                next: "the recipes are node, mariadb, mosquitto, haproxy and homeassistant")
        }
        var files: [File] = []
        for case let relative as String in walker where !relative.hasSuffix(".md") {
            let path = directory.appendingPathComponent(relative).path
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let mode = (try fm.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
            files.append(File(path: relative, executable: mode & 0o111 != 0, data: try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        guard !files.isEmpty else {
            throw HahaError(.notFound, "recipe \(name) in \(directory.path) has no files", next: "rebuild haha with `swift build`")
        }
        return Recipe(name: name, files: files.sorted { $0.path < $1.path })
    }

    /// SwiftPM's name for the bundle: a directory on Linux, a `.bundle` on macOS.
    static let bundleNames = ["haha_HahaSystem.resources", "haha_HahaSystem.bundle"]

    /// The Recipes directory in the resource bundle beside the running executable (symbolic links resolved) or beside
    /// the main bundle. Not `Bundle.module`: it stops the process when the bundle is missing (a binary copied alone).
    static func directory(searching places: [URL] = executableDirectories()) throws -> URL {
        let candidates = places.flatMap { place in bundleNames.map { place.appendingPathComponent($0) } }
        for candidate in candidates {
            guard let recipes = Bundle(url: candidate)?.url(forResource: "Recipes", withExtension: nil) else { continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: recipes.path, isDirectory: &isDirectory), isDirectory.boolValue { return recipes }
        }
        throw HahaError(
            .notFound,
            """
            the lab's image recipes are missing: no resource bundle with a Recipes directory at
            \(candidates.map { "    \($0.path)" }.joined(separator: "\n"))
            """,
            next:
                "rebuild with `swift build` and run .build/debug/haha, or copy haha_HahaSystem.resources (\(bundleNames[1]) on macOS) next to the haha binary"
        )
    }

    /// The running executable's real directory, then the main bundle's (they differ when haha is run through a link).
    static func executableDirectories() -> [URL] {
        var places: [URL] = []
        if let executable = Bundle.main.executableURL {
            places.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        places.append(Bundle.main.bundleURL)
        var seen = Set<String>()
        return places.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }

    /// Content hash of the recipe built on `base` (the root image tag): the cache key of the image. The text hashed is
    /// unchanged since the recipes were embedded as base64, so images built then are still found in the cache.
    func key(base: String, extra: [String] = []) -> String {
        var text = "recipe \(name) v1\nbase \(base)\n" + extra.joined(separator: "\n")
        for file in files.sorted(by: { $0.path < $1.path }) {
            text += "\n\(file.path) \(file.executable) \(file.data.base64EncodedString())"
        }
        return SHA512.prefixHex(text.utf8, bytes: 6)
    }

    /// Writes the build context, with the Dockerfile's first line replaced by `FROM base`.
    func writeContext(to directory: URL, base: String) throws {
        let fm = FileManager.default
        try? fm.removeItem(at: directory)
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in files {
            let url = directory.appendingPathComponent(file.path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            var data = file.data
            if file.path == "Dockerfile" {
                let text = String(decoding: data, as: UTF8.self)
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if let first = lines.firstIndex(where: { $0.hasPrefix("FROM ") }) { lines[first] = "FROM \(base)" }
                data = Data(lines.joined(separator: "\n").utf8)
            }
            try data.write(to: url)
            try fm.setAttributes([.posixPermissions: file.executable ? 0o755 : 0o644], ofItemAtPath: url.path)
        }
    }
}
