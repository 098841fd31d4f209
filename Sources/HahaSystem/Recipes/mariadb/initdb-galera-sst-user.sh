# Init script for /docker-entrypoint-initdb.d (not part of the image): mount it, non-executable,
# on every Galera member. It is *sourced* by the entrypoint of this image and of the official
# mariadb image during first-time initialisation (temporary server, wsrep off), so it can use
# docker_process_sql. It creates the account the mariabackup SST donor logs in with, taking the
# credentials from wsrep_sst_auth in the server's option files (for example an
# `!include /run/secrets/galera_sst.cnf`), so no password is written here. Members that later
# join by SST receive the bootstrap member's copy of the account with the data.
haha_sst_auth=$(my_print_defaults --mysqld | sed -n 's/^--wsrep[-_]sst[-_]auth=//p' | tail -n 1)
if [ -n "$haha_sst_auth" ]; then
	haha_sst_user=${haha_sst_auth%%:*}
	haha_sst_pass=$(docker_sql_escape_string_literal "${haha_sst_auth#*:}")
	mysql_note "Creating SST user ${haha_sst_user}@localhost"
	docker_process_sql --database=mysql <<-EOSQL
		CREATE USER IF NOT EXISTS '${haha_sst_user}'@'localhost' IDENTIFIED BY '${haha_sst_pass}';
		GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO '${haha_sst_user}'@'localhost';
	EOSQL
else
	mysql_warn "wsrep_sst_auth is not set; no SST user created"
fi
unset haha_sst_auth haha_sst_user haha_sst_pass
