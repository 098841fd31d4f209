import Foundation
import HahaCore
import Testing

@testable import HahaSystem

/// The recipes come from the resource bundle SwiftPM builds from Sources/HahaSystem/Recipes.
@Suite struct RecipeTests {
    static let names = ["node", "mariadb", "mosquitto", "haproxy", "homeassistant"]
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/HahaSystem/Recipes")

    /// The lab's image cache is keyed by these: the keys computed when the recipes were embedded as generated base64
    /// (commit 8de3c45). A recipe edit changes its key on purpose; update the value here in the same commit.
    @Test(arguments: [
        ("node", "24f81ce0acb6", 2), ("mariadb", "e98e1554c0ef", 4), ("mosquitto", "1b5fdeab831d", 3),
        ("haproxy", "76c4916df12c", 2), ("homeassistant", "4270307db009", 10),
    ])
    func cacheKeysAreThoseOfTheEmbeddedRecipes(name: String, key: String, files: Int) throws {
        let recipe = try Recipe.named(name)
        #expect(recipe.files.count == files)
        #expect(recipe.key(base: "haha-lab/root:trixie-0123456789ab") == key)
    }

    /// The bundle beside the test binary holds the source files byte for byte, executable bits included.
    @Test(arguments: names)
    func bundleHoldsTheSourceFiles(name: String) throws {
        #expect(try Recipe.named(name).files == Recipe.named(name, in: Self.sources).files)
    }

    @Test func everyRecipeHasADockerfileStartingWithFrom() throws {
        for name in Self.names {
            let recipe = try Recipe.named(name)
            guard let dockerfile = recipe.files.first(where: { $0.path == "Dockerfile" }) else {
                Issue.record("recipe \(name) has no Dockerfile")
                continue
            }
            #expect(String(decoding: dockerfile.data, as: UTF8.self).hasPrefix("FROM "), "recipe \(name)")
        }
    }

    @Test func keyChangesWithBaseContentAndMode() {
        let recipe = Recipe(name: "x", files: [.init(path: "Dockerfile", executable: false, data: Data("FROM a\n".utf8))])
        var edited = recipe
        edited.files[0].data = Data("FROM a\nRUN true\n".utf8)
        var executable = recipe
        executable.files[0].executable = true
        #expect(recipe.key(base: "r1") == recipe.key(base: "r1"))
        #expect(recipe.key(base: "r1") != recipe.key(base: "r2"))
        #expect(recipe.key(base: "r1") != edited.key(base: "r1"))
        #expect(recipe.key(base: "r1") != executable.key(base: "r1"))
    }

    /// A binary copied without its bundle gets an error naming where haha looked and how to fix it, not a crash.
    @Test func aMissingBundleSaysWhereItLookedAndWhatToDo() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("haha-no-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        do {
            _ = try Recipe.directory(searching: [empty])
            Issue.record("found recipes in an empty directory")
        } catch let error as HahaError {
            #expect(error.code == .notFound)
            #expect(error.description.contains(empty.appendingPathComponent("haha_HahaSystem.resources").path))
            #expect(error.next?.contains("swift build") == true)
        }
    }

    @Test func anUnknownRecipeIsNotFound() {
        #expect(throws: HahaError.self) { try Recipe.named("nginx") }
        #expect(throws: HahaError.self) { try Recipe.named("../Recipes") }
    }
}
