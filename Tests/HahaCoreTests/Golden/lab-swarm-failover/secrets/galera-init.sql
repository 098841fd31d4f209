-- Run once by the MariaDB entrypoint when a member's data directory is new: the user Galera's
-- mariabackup state transfer logs in as. Rendered by haha; the password is in haha's secrets directory.
CREATE USER IF NOT EXISTS 'haha_sst'@'localhost' IDENTIFIED BY 'test-galera-sst-password-0123456789';
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'haha_sst'@'localhost';
