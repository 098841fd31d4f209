// haha-oci-shim: an OCI runtime wrapper for lab hosts whose kernel capability bounding set lacks
// CAP_SYS_RESOURCE (as in some VMs). `docker run --privileged` asks runc for every capability and
// fails with "unable to apply caps: operation not permitted"; this wrapper drops CAP_SYS_RESOURCE
// from the container's config.json (create/run) and from the --process file (exec), then execs runc.
// Register it with dockerd: `dockerd --add-runtime haha-lab=/path/to/haha-oci-shim`.
import Foundation

let dropped: Set<String> = ["CAP_SYS_RESOURCE"]
let arguments = Array(CommandLine.arguments.dropFirst())

/// Removes the dropped capabilities from every list of an OCI capabilities object.
func strip(_ capabilities: Any?) -> Any? {
    guard var sets = capabilities as? [String: Any] else { return capabilities }
    for (key, value) in sets {
        if let list = value as? [String] { sets[key] = list.filter { !dropped.contains($0) } }
    }
    return sets
}

func rewrite(_ path: String, capabilitiesAt keyPath: [String]) {
    guard let data = FileManager.default.contents(atPath: path),
        var document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    else { return }
    if keyPath == ["process", "capabilities"] {
        guard var process = document["process"] as? [String: Any] else { return }
        process["capabilities"] = strip(process["capabilities"])
        document["process"] = process
    } else {
        document["capabilities"] = strip(document["capabilities"])
    }
    guard let output = try? JSONSerialization.data(withJSONObject: document) else { return }
    try? output.write(to: URL(fileURLWithPath: path))
}

func value(after flags: [String]) -> String? {
    for (index, argument) in arguments.enumerated() {
        for flag in flags {
            if argument == flag, index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix(flag + "=") { return String(argument.dropFirst(flag.count + 1)) }
        }
    }
    return nil
}

if let bundle = value(after: ["--bundle", "-b"]) {
    rewrite(bundle + "/config.json", capabilitiesAt: ["process", "capabilities"])
}
if let process = value(after: ["--process"]) {
    rewrite(process, capabilitiesAt: ["capabilities"])
}

let runc = ProcessInfo.processInfo.environment["HAHA_OCI_RUNC"] ?? "/usr/sbin/runc"
let argv = ([runc] + arguments).map { strdup($0) } + [nil]
execv(runc, argv)
FileHandle.standardError.write(Data("haha-oci-shim: cannot exec \(runc): \(String(cString: strerror(errno)))\n".utf8))
exit(127)
