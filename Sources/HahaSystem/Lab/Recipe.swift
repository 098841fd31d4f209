import Foundation
import HahaCore

/// An image recipe (Dockerfile and the files beside it), embedded in the haha binary so that
/// `haha lab` works from any directory. The sources are in Sources/HahaSystem/Recipes.
public struct Recipe: Sendable {
    public struct File: Sendable, Equatable {
        public var path: String
        public var executable: Bool
        public var base64: String

        public init(path: String, executable: Bool, base64: String) {
            self.path = path
            self.executable = executable
            self.base64 = base64
        }

        public var data: Data { Data(base64Encoded: base64) ?? Data() }
    }

    public var name: String
    public var files: [File]

    /// The recipe named `name` (node, mariadb, mosquitto, haproxy, homeassistant).
    public static func named(_ name: String) -> Recipe {
        Recipe(name: name, files: EmbeddedRecipes.files.filter { $0.path.hasPrefix(name + "/") }.map {
            File(path: String($0.path.dropFirst(name.count + 1)), executable: $0.executable, base64: $0.base64)
        })
    }

    /// Content hash of the recipe built on `base` (the root image tag): the cache key of the image.
    public func key(base: String, extra: [String] = []) -> String {
        var text = "recipe \(name) v1\nbase \(base)\n" + extra.joined(separator: "\n")
        for file in files.sorted(by: { $0.path < $1.path }) { text += "\n\(file.path) \(file.executable) \(file.base64)" }
        return SHA512.hex(Array(SHA512.hash(Array(text.utf8)).prefix(6)))
    }

    /// Writes the build context, with the Dockerfile's first line replaced by `FROM base`.
    public func writeContext(to directory: URL, base: String) throws {
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
