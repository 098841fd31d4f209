import Foundation

/// What a `haha backup` archive holds: `manifest.json` beside one file per part. The manifest says where each part
/// came from and which versions wrote it, so `haha restore` can check the archive and refuse what it cannot load.
public struct BackupManifest: Codable, Sendable, Equatable {
    /// The archive layout's version; a restore refuses layouts it does not know.
    public static let currentFormat = 1
    public static let fileName = "manifest.json"

    public var format: Int = BackupManifest.currentFormat
    /// When the backup was taken (ISO 8601, UTC).
    public var created: String
    /// The haha version that wrote the archive.
    public var haha: String
    /// The images the spec named when the backup was taken.
    public var images: Images
    /// The Home Assistant version that last ran on the config (its `.HA_VERSION`), nil when it never started.
    public var homeAssistantVersion: String?
    /// The MariaDB server's `VERSION()` of the member the database was read from.
    public var mariadbVersion: String
    /// The member the database was read from, and its last committed transaction then.
    public var databaseFrom: String
    public var databaseSeqno: Int64?
    public var parts: [Part]

    public struct Images: Codable, Sendable, Equatable {
        public var homeAssistant: String
        public var mariadb: String
        public var mosquitto: String

        public init(homeAssistant: String, mariadb: String, mosquitto: String) {
            self.homeAssistant = homeAssistant
            self.mariadb = mariadb
            self.mosquitto = mosquitto
        }
    }

    public struct Part: Codable, Sendable, Equatable {
        public var name: String
        public var file: String
        public var bytes: Int64
        public var sha256: String

        public init(name: String, file: String, bytes: Int64, sha256: String) {
            self.name = name
            self.file = file
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public init(
        created: String, haha: String, images: Images, homeAssistantVersion: String?, mariadbVersion: String, databaseFrom: String,
        databaseSeqno: Int64?, parts: [Part]
    ) {
        self.created = created
        self.haha = haha
        self.images = images
        self.homeAssistantVersion = homeAssistantVersion
        self.mariadbVersion = mariadbVersion
        self.databaseFrom = databaseFrom
        self.databaseSeqno = databaseSeqno
        self.parts = parts
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The manifest of an archive, or a sentence saying why it is not one haha can read.
    public static func decode(_ data: Data) -> Result<BackupManifest, BackupProblem> {
        guard let manifest = try? JSONDecoder().decode(BackupManifest.self, from: data) else {
            return .failure(BackupProblem("its \(fileName) is not a haha backup manifest"))
        }
        guard manifest.format == currentFormat else {
            return .failure(BackupProblem("its layout is format \(manifest.format); this haha reads format \(currentFormat)"))
        }
        return .success(manifest)
    }
}

/// The parts every archive holds, in the order they are taken and restored.
public enum BackupPart: String, CaseIterable, Sendable {
    /// The recorder database, as SQL from one synced member (`mariadb-dump --single-transaction`), gzip'd.
    case database
    /// Home Assistant's `/config` from the shared volume (haha's lease directory left out), a gzip'd tar.
    case config
    /// Mosquitto's persistence (retained messages, sessions), a gzip'd tar.
    case mosquitto

    public var file: String {
        switch self {
        case .database: return "database.sql.gz"
        case .config: return "config.tar.gz"
        case .mosquitto: return "mosquitto.tar.gz"
        }
    }

    /// The directory under the shared volume's mount that the part holds (nil: the database).
    public var directory: String? {
        switch self {
        case .database: return nil
        case .config: return "homeassistant"
        case .mosquitto: return "mosquitto/data"
        }
    }
}

public struct BackupProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A version as software prints it (`2026.11.3`, `11.8.3-MariaDB-ubu2404`, `mariadb:11.8`): its leading numbers.
public struct SoftwareVersion: Comparable, Sendable, CustomStringConvertible {
    public var numbers: [Int]

    /// The first run of dot-separated numbers in `text`, or in an image reference's tag; nil without any.
    public init?(_ text: String) {
        var rest = Substring(text)
        // A digest (`repo:tag@sha256:…`) says no version; the tag before it may.
        if let at = rest.firstIndex(of: "@") { rest = rest[..<at] }
        if rest.contains("/") || rest.contains(":") {
            // An image reference: only its tag says a version.
            guard let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") else { return nil }
            rest = rest[rest.index(after: colon)...]
        }
        guard let start = rest.firstIndex(where: \.isNumber) else { return nil }
        var numbers: [Int] = []
        var digits = ""
        for character in rest[start...] {
            if character.isNumber {
                digits.append(character)
            } else if character == ".", !digits.isEmpty {
                numbers.append(Int(digits) ?? 0)
                digits = ""
            } else {
                break
            }
        }
        if !digits.isEmpty { numbers.append(Int(digits) ?? 0) }
        guard !numbers.isEmpty else { return nil }
        self.numbers = numbers
    }

    public var description: String { numbers.map(String.init).joined(separator: ".") }

    /// Compared on the parts both name: `11.8` is neither older nor newer than `11.8.3`.
    public static func < (lhs: SoftwareVersion, rhs: SoftwareVersion) -> Bool {
        for (left, right) in zip(lhs.numbers, rhs.numbers) where left != right { return left < right }
        return false
    }

    public static func == (lhs: SoftwareVersion, rhs: SoftwareVersion) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
}

/// What a restore onto a cluster must refuse: an archive written by newer software than the cluster runs
/// (Home Assistant refuses a database a newer version migrated; MariaDB's dump may use what an older server lacks).
public enum RestoreCheck {
    /// The versions the cluster runs now: Home Assistant's `.HA_VERSION` (or the image's tag) and MariaDB's `VERSION()`.
    public struct Target: Sendable {
        public var homeAssistant: String?
        public var mariadb: String?

        public init(homeAssistant: String?, mariadb: String?) {
            self.homeAssistant = homeAssistant
            self.mariadb = mariadb
        }
    }

    /// One sentence per reason to refuse; empty when the archive may be restored.
    public static func problems(_ manifest: BackupManifest, onto target: Target) -> [String] {
        var problems: [String] = []
        let missing = BackupPart.allCases.filter { part in !manifest.parts.contains { $0.name == part.rawValue } }
        if !missing.isEmpty { problems.append("the archive lacks its \(missing.map(\.rawValue).joined(separator: ", ")) part") }
        func newer(_ what: String, _ backup: String?, _ running: String?, fix: String) {
            guard let backup, let backupVersion = SoftwareVersion(backup), let running, let runningVersion = SoftwareVersion(running) else {
                return
            }
            if runningVersion < backupVersion {
                problems.append(
                    "the backup was written by \(what) \(backupVersion), newer than the \(runningVersion) this cluster runs; \(fix)")
            }
        }
        newer(
            "Home Assistant", manifest.homeAssistantVersion, target.homeAssistant,
            fix: "set images.homeAssistant to \(manifest.images.homeAssistant) (or newer) and run `haha up` first")
        newer(
            "MariaDB", manifest.mariadbVersion, target.mariadb,
            fix: "set images.mariadb to \(manifest.images.mariadb) (or newer) and run `haha up` first")
        return problems
    }
}
