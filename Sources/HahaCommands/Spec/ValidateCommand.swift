import ArgumentParser
import HahaCore
import HahaSystem

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check haha.yaml and its secrets; report every problem at once (exit 0 ok, 1 invalid).")

    @OptionGroup var spec: SpecOptions

    @Flag(help: "Print the diagnostics as JSON.")
    var json = false

    func run() async throws {
        let diagnostics: [Diagnostic]
        do {
            diagnostics = try spec.load().validate()
        } catch let error as DiagnosticsError {
            diagnostics = error.diagnostics
        }
        if json {
            try Console.json(ValidationReport(file: spec.path, valid: !diagnostics.hasErrors, diagnostics: diagnostics))
        } else {
            for diagnostic in diagnostics { Console.out(diagnostic.formatted(file: spec.path)) }
            let errors = diagnostics.errors.count, warnings = diagnostics.warnings.count
            Console.error(
                errors == 0
                    ? "\(spec.path) is valid (\(warnings) warning\(warnings == 1 ? "" : "s"))"
                    : "\(spec.path): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
        if diagnostics.hasErrors { throw ExitCode(1) }
    }

    struct ValidationReport: Encodable {
        var file: String
        var valid: Bool
        var diagnostics: [Diagnostic]
    }
}
