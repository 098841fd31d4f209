/// `haha backup --schedule` and `--keep`: the cron entry and which old archives go, without I/O.
public enum BackupSchedule {
    /// An archive's name as `haha backup --dir` writes it: `haha-backup-20261205-013000.tar`.
    public static func archiveName(stamp: String) -> String { "haha-backup-\(stamp).tar" }

    /// Whether a file name is one of haha's dated archives (only those are ever removed by `--keep`).
    public static func isArchive(_ name: String) -> Bool {
        guard name.hasPrefix("haha-backup-"), name.hasSuffix(".tar") else { return false }
        let stamp = name.dropFirst("haha-backup-".count).dropLast(".tar".count)
        let parts = stamp.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0].count == 8 && parts[1].count == 6 && parts.allSatisfy { $0.allSatisfy(\.isNumber) }
    }

    /// The archives to remove so that the newest `keep` remain; other files are never listed.
    public static func expired(_ names: [String], keep: Int) -> [String] {
        let archives = names.filter(isArchive).sorted(by: >)
        return Array(archives.dropFirst(max(keep, 1))).sorted()
    }

    /// The cron time fields for `hourly`, `daily`, `weekly`, or five fields given as they are; nil when not valid.
    /// The minute is fixed per cluster (`minute`) so that several clusters do not all start at once.
    public static func cronFields(_ schedule: String, minute: Int) -> String? {
        switch schedule {
        case "hourly": return "\(minute) * * * *"
        case "daily": return "\(minute) 3 * * *"
        case "weekly": return "\(minute) 3 * * 0"
        default:
            let fields = schedule.split(separator: " ")
            let allowed = Set("0123456789*/,-")
            guard fields.count == 5, fields.allSatisfy({ !$0.isEmpty && $0.allSatisfy(allowed.contains) }) else { return nil }
            return fields.joined(separator: " ")
        }
    }

    /// `/etc/cron.d/haha-backup-STACK`: runs `haha backup --dir DIR --keep N` as root, its output appended to a log
    /// in the same directory. Every path is quoted for the shell cron runs the line with.
    public static func cronFile(fields: String, haha: String, spec: String, directory: String, keep: Int) -> String {
        func q(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
        return """
            # Written by `haha backup --schedule`; remove with `haha backup --schedule off --config \(spec)`.
            SHELL=/bin/sh
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
            \(fields) root \(q(haha)) backup --config \(q(spec)) --dir \(q(directory)) --keep \(keep) >> \(q(directory + "/haha-backup.log")) 2>&1

            """
    }
}
