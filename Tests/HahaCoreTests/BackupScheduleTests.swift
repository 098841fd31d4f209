import HahaCore
import Testing

struct BackupScheduleTests {
    @Test func onlyDatedArchivesCountAndTheNewestAreKept() {
        let names = [
            "haha-backup-20261201-030000.tar", "haha-backup-20261203-030000.tar", "haha-backup-20261202-030000.tar",
            "haha-backup-20261203-030000.tar.partial", "haha-backup.log", "haha-backup-latest.tar", "notes.txt",
            "haha-backup-before-upgrade-20261130-120000.tar",
        ]
        #expect(BackupSchedule.expired(names, keep: 2) == ["haha-backup-20261201-030000.tar"])
        #expect(BackupSchedule.expired(names, keep: 1) == ["haha-backup-20261201-030000.tar", "haha-backup-20261202-030000.tar"])
        #expect(BackupSchedule.expired(names, keep: 5).isEmpty)
        #expect(BackupSchedule.archiveName(stamp: "20261205-013000") == "haha-backup-20261205-013000.tar")
        #expect(BackupSchedule.isArchive(BackupSchedule.archiveName(stamp: "20261205-013000")))
    }

    @Test func presetsAndCronFieldsAreAcceptedAndAnythingElseIsNot() {
        #expect(BackupSchedule.cronFields("daily", minute: 17) == "17 3 * * *")
        #expect(BackupSchedule.cronFields("hourly", minute: 5) == "5 * * * *")
        #expect(BackupSchedule.cronFields("weekly", minute: 0) == "0 3 * * 0")
        #expect(BackupSchedule.cronFields("*/30 1-5 * * 1,3", minute: 0) == "*/30 1-5 * * 1,3")
        #expect(BackupSchedule.cronFields("* * * *", minute: 0) == nil)
        #expect(BackupSchedule.cronFields("* * * * *; rm -rf /", minute: 0) == nil)
        #expect(BackupSchedule.cronFields("@reboot", minute: 0) == nil)
    }

    @Test func theCronLineQuotesEveryPath() {
        let text = BackupSchedule.cronFile(
            fields: "0 3 * * *", haha: "/usr/local/bin/haha", spec: "/home/pi/it's/haha.yaml", directory: "/mnt/nas", keep: 7)
        #expect(
            text.contains(
                #"0 3 * * * root '/usr/local/bin/haha' backup --config '/home/pi/it'\''s/haha.yaml' --dir '/mnt/nas' --keep 7 >> '/mnt/nas/haha-backup.log' 2>&1"#
            ))
    }
}
