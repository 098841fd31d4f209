import Foundation

/// `haha upgrade`: which images change, and what is refused, without I/O.
public enum UpgradePlan {
    public struct Change: Sendable, Equatable, Codable {
        /// `homeAssistant`, `mariadb` or `mosquitto` (the spec's `images` key).
        public var image: String
        public var from: String
        public var to: String

        public init(image: String, from: String, to: String) {
            self.image = image
            self.from = from
            self.to = to
        }
    }

    /// The image reference a request means: a whole reference (`repo:tag`, `repo@sha256:…`) as it is, or a bare tag
    /// (`2026.12.1`) on the current image's repository.
    public static func reference(current: String, requested: String) -> String {
        if requested.contains("/") || requested.contains(":") || requested.contains("@") { return requested }
        return "\(repository(of: current)):\(requested)"
    }

    /// An image reference's repository: without its digest (`@sha256:…`) and its tag (a registry's `:PORT` stays).
    static func repository(of reference: String) -> Substring {
        var repository = Substring(reference)
        if let at = repository.firstIndex(of: "@") { repository = repository[..<at] }
        if let colon = repository.lastIndex(of: ":"), !repository[colon...].contains("/") { repository = repository[..<colon] }
        return repository
    }

    /// The images that change (a request equal to the current image is no change).
    public static func changes(current: ClusterSpec.Images, homeAssistant: String?, mariadb: String?, mosquitto: String?)
        -> [Change]
    {
        var changes: [Change] = []
        for (key, now, wanted) in [
            ("homeAssistant", current.homeAssistant, homeAssistant), ("mariadb", current.mariadb, mariadb),
            ("mosquitto", current.mosquitto, mosquitto),
        ] {
            guard let wanted else { continue }
            let to = reference(current: now, requested: wanted)
            if to != now { changes.append(Change(image: key, from: now, to: to)) }
        }
        return changes
    }

    public static func applying(_ changes: [Change], to images: ClusterSpec.Images) -> ClusterSpec.Images {
        var images = images
        for change in changes {
            switch change.image {
            case "homeAssistant": images.homeAssistant = change.to
            case "mariadb": images.mariadb = change.to
            case "mosquitto": images.mosquitto = change.to
            default: break
            }
        }
        return images
    }

    /// What pinning an image by its registry digest came to.
    public enum Pin: Sendable, Equatable {
        /// `reference@sha256:…`: every node holds the same image under this digest.
        case pinned(String)
        /// Left as the tag, and why (no registry digest: an image built or loaded locally).
        case notPinned(String)
        /// Nodes hold different images under one tag: rolling it out would run different software on different nodes.
        case refused(String)
    }

    /// Pins `reference` by the registry digest its nodes hold it under. `repoDigests`: per node, the image's
    /// `RepoDigests` one a line (`docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}'`). Docker
    /// writes Docker Hub's images short (`mariadb@sha256:…` for `docker.io/library/mariadb:11.8`): names are compared
    /// without `docker.io/` and `library/`. A multi-architecture image has one digest (its index) on arm64 and amd64.
    public static func pin(_ reference: String, repoDigests: [String: String]) -> Pin {
        if reference.contains("@") { return .pinned(reference) }
        func short(_ name: Substring) -> Substring {
            var name = name
            for prefix in ["docker.io/", "library/"] where name.hasPrefix(prefix) { name = name.dropFirst(prefix.count) }
            return name
        }
        let wanted = short(repository(of: reference))
        var held: [String: Set<String>] = [:]
        for (node, lines) in repoDigests {
            held[node] = Set(
                lines.split(whereSeparator: \.isNewline).compactMap { line -> String? in
                    guard let at = line.firstIndex(of: "@"), short(line[..<at]) == wanted else { return nil }
                    return String(line[line.index(after: at)...]).trimmingCharacters(in: .whitespaces)
                })
        }
        let without = held.filter { $0.value.isEmpty }.keys.sorted()
        if held.isEmpty || without.count == held.count {
            return .notPinned("\(reference) has no registry digest (built or loaded locally): left as the tag")
        }
        if !without.isEmpty {
            return .notPinned(
                "\(without.joined(separator: ", ")) hold \(reference) without a registry digest (loaded locally): left as the tag")
        }
        let common = held.values.dropFirst().reduce(held.values.first ?? []) { $0.intersection($1) }
        guard let digest = common.sorted().first else {
            let each = held.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.sorted().joined(separator: " "))" }
            return .refused(
                "the nodes hold different images under \(reference) (\(each.joined(separator: "; "))): pull the same one everywhere, or name it by digest"
            )
        }
        return .pinned("\(reference)@\(digest)")
    }

    /// Why the change must not be rolled out: a Home Assistant or MariaDB whose tag says an older version than the
    /// running one. Home Assistant refuses a database a newer version migrated, and MariaDB cannot open data files a
    /// newer version wrote; the way back to an older version is the backup taken before the upgrade.
    public static func refusals(_ changes: [Change]) -> [String] {
        changes.compactMap { change in
            guard change.image != "mosquitto", let from = SoftwareVersion(change.from), let to = SoftwareVersion(change.to), to < from
            else { return nil }
            let name = change.image == "mariadb" ? "MariaDB" : "Home Assistant"
            return
                "\(change.to) is an older \(name) (\(to)) than the running \(change.from) (\(from)): \(name == "MariaDB" ? "it cannot open data files a newer version wrote" : "it refuses a database a newer version migrated"); go back with `haha restore` of the backup taken before the upgrade, then set the image in haha.yaml"
        }
    }
}
