import Foundation
import Testing
@testable import HahaSystem

/// The recipes embedded in the binary are exactly the files in Sources/HahaSystem/Recipes.
/// After editing a recipe: `HAHA_UPDATE_RECIPES=1 swift test --filter RecipeTests`.
@Suite struct RecipeTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/HahaSystem/Recipes")
    static let generated = sources.deletingLastPathComponent().appendingPathComponent("Lab/EmbeddedRecipes.swift")

    static func filesOnDisk() throws -> [Recipe.File] {
        let fm = FileManager.default
        let root = sources.standardizedFileURL.path
        guard let walker = fm.enumerator(atPath: root) else { return [] }
        var files: [Recipe.File] = []
        for case let relative as String in walker {
            let path = "\(root)/\(relative)"
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if relative.hasSuffix("README.md") || relative.hasSuffix(".md") { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let mode = (try fm.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
            files.append(Recipe.File(path: relative, executable: mode & 0o111 != 0, base64: data.base64EncodedString()))
        }
        return files.sorted { $0.path < $1.path }
    }

    @Test func embeddedRecipesMatchTheSourceFiles() throws {
        let onDisk = try Self.filesOnDisk()
        if ProcessInfo.processInfo.environment["HAHA_UPDATE_RECIPES"] == "1" {
            var text = """
                // Generated from Sources/HahaSystem/Recipes by `HAHA_UPDATE_RECIPES=1 swift test --filter RecipeTests`.
                // Do not edit: edit the recipe files, then regenerate. RecipeTests fails when the two differ.
                enum EmbeddedRecipes {
                    static let files: [Recipe.File] = [

                """
            for file in onDisk {
                text += "        .init(path: \"\(file.path)\", executable: \(file.executable),\n              base64: \"\(file.base64)\"),\n"
            }
            text += "    ]\n}\n"
            try text.write(to: Self.generated, atomically: true, encoding: .utf8)
            return
        }
        #expect(EmbeddedRecipes.files.map(\.path) == onDisk.map(\.path), "run HAHA_UPDATE_RECIPES=1 swift test --filter RecipeTests")
        for (embedded, disk) in zip(EmbeddedRecipes.files, onDisk) where embedded != disk {
            Issue.record("\(disk.path) changed since the recipes were embedded; run HAHA_UPDATE_RECIPES=1 swift test --filter RecipeTests")
        }
    }

    @Test func everyRecipeHasADockerfileStartingWithFrom() {
        for name in ["node", "mariadb", "mosquitto", "haproxy", "homeassistant"] {
            let recipe = Recipe.named(name)
            guard let dockerfile = recipe.files.first(where: { $0.path == "Dockerfile" }) else {
                Issue.record("recipe \(name) has no Dockerfile")
                continue
            }
            let text = String(decoding: dockerfile.data, as: UTF8.self)
            #expect(text.hasPrefix("FROM "), "recipe \(name)")
        }
    }

    @Test func keyChangesWithBaseAndContent() {
        let recipe = Recipe(name: "x", files: [.init(path: "Dockerfile", executable: false, base64: Data("FROM a\n".utf8).base64EncodedString())])
        var edited = recipe
        edited.files[0].base64 = Data("FROM a\nRUN true\n".utf8).base64EncodedString()
        #expect(recipe.key(base: "r1") == recipe.key(base: "r1"))
        #expect(recipe.key(base: "r1") != recipe.key(base: "r2"))
        #expect(recipe.key(base: "r1") != edited.key(base: "r1"))
    }
}
