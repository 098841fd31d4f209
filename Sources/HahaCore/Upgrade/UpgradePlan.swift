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
        var repository = Substring(current)
        if let at = repository.firstIndex(of: "@") { repository = repository[..<at] }
        if let colon = repository.lastIndex(of: ":"), !repository[colon...].contains("/") { repository = repository[..<colon] }
        return "\(repository):\(requested)"
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
