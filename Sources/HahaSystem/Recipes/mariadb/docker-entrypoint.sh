#!/bin/bash
# Entrypoint of the haha lab MariaDB image (Debian packages). It follows the contract
# of the official mariadb image: env variables, /docker-entrypoint-initdb.d, the
# temporary init server with wsrep off, the healthcheck account, and helper function
# names that sourced init scripts may call (docker_process_sql, mysql_note, ...).
set -eo pipefail
shopt -s nullglob

mysql_log() {
	local level=$1; shift
	printf '%s [%s] [Entrypoint]: %s\n' "$(date --rfc-3339=seconds)" "$level" "$*"
}
mysql_note() { mysql_log Note "$@"; }
mysql_warn() { mysql_log Warn "$@" >&2; }
mysql_error() { mysql_log ERROR "$@" >&2; exit 1; }

# file_env VAR [DEFAULT]: VAR may instead be given as the contents of the file named
# by VAR_FILE (Docker/Swarm secrets). Setting both is an error.
file_env() {
	local name=$1 default=${2:-}
	local file_name="${name}_FILE"
	local value=$default
	if [ -n "${!name:-}" ] && [ -n "${!file_name:-}" ]; then
		mysql_error "Both $name and $file_name are set (but are exclusive)"
	fi
	if [ -n "${!name:-}" ]; then
		value=${!name}
	elif [ -n "${!file_name:-}" ]; then
		[ -r "${!file_name}" ] || mysql_error "$file_name names ${!file_name}, which is not readable"
		value=$(<"${!file_name}")
	fi
	export "$name=$value"
	unset "$file_name"
}

# MARIADB_X wins, MYSQL_X is the legacy spelling; afterwards both hold the same value.
mariadb_file_env() {
	local legacy="MYSQL_$1" current="MARIADB_$1" default=${2:-}
	file_env "$legacy" "$default"
	file_env "$current" "${!legacy}"
	export "$legacy=${!current}"
}

mariadb_version() {
	mariadbd --version | sed -nE 's/.*Ver ([0-9]+\.[0-9]+\.[0-9]+-MariaDB).*/\1/p'
}

# Values as the server will see them (defaults included, config files applied).
server_config_value() {
	local key=$1; shift
	"$@" --verbose --help 2>/dev/null \
		| awk -v key="$key" '$1 == key && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

check_config() {
	local out
	if ! out=$("$@" --verbose --help 2>&1 >/dev/null); then
		mysql_error $'mariadbd failed while attempting to check config\n\tcommand was: '"$* --verbose --help"$'\n\t'"$out"
	fi
}

docker_setup_env() {
	declare -g DATADIR SOCKET PORT DATABASE_ALREADY_EXISTS
	DATADIR=$(server_config_value datadir "$@")
	DATADIR=${DATADIR%/}
	SOCKET=$(server_config_value socket "$@")
	PORT=$(server_config_value port "$@")

	mariadb_file_env ROOT_HOST '%'
	mariadb_file_env DATABASE
	mariadb_file_env USER
	mariadb_file_env PASSWORD
	mariadb_file_env ROOT_PASSWORD
	file_env MARIADB_PASSWORD_HASH
	file_env MARIADB_ROOT_PASSWORD_HASH
	file_env MARIADB_USER_HOST '%'

	: "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:=${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"
	: "${MARIADB_RANDOM_ROOT_PASSWORD:=${MYSQL_RANDOM_ROOT_PASSWORD:-}}"
	: "${MARIADB_INITDB_SKIP_TZINFO:=${MYSQL_INITDB_SKIP_TZINFO:-}}"
	export MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MARIADB_RANDOM_ROOT_PASSWORD MARIADB_INITDB_SKIP_TZINFO
	export MYSQL_ALLOW_EMPTY_PASSWORD=$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD \
		MYSQL_RANDOM_ROOT_PASSWORD=$MARIADB_RANDOM_ROOT_PASSWORD \
		MYSQL_INITDB_SKIP_TZINFO=$MARIADB_INITDB_SKIP_TZINFO

	DATABASE_ALREADY_EXISTS=
	if [ -d "$DATADIR/mysql" ]; then
		DATABASE_ALREADY_EXISTS=true
	fi
}

docker_verify_minimum_env() {
	if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "$MARIADB_ROOT_PASSWORD_HASH" ] \
		&& [ -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] && [ -z "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		mysql_error $'Database is uninitialized and password option is not specified\n\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD'
	fi
	if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ] && { [ -n "$MARIADB_ROOT_PASSWORD" ] \
		|| [ -n "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ] || [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; }; then
		mysql_error "Cannot specify MARIADB_ROOT_PASSWORD_HASH and another MARIADB_ROOT_PASSWORD* option."
	fi
	if [ -n "$MARIADB_PASSWORD" ] && [ -n "$MARIADB_PASSWORD_HASH" ]; then
		mysql_error "Cannot specify MARIADB_PASSWORD_HASH and MARIADB_PASSWORD option."
	fi
	if [ -n "${MARIADB_REPLICATION_USER:-}" ] || [ -n "${MARIADB_MASTER_HOST:-}" ]; then
		mysql_warn "MARIADB_REPLICATION_*/MARIADB_MASTER_* are not supported by this image; ignored"
	fi
}

docker_create_db_directories() {
	mkdir -p "$DATADIR"
	if [ "$(id -u)" = 0 ]; then
		find "$DATADIR" \! -user mysql -exec chown mysql: '{}' +
		if [ "${SOCKET:0:1}" != @ ]; then
			mkdir -p "${SOCKET%/*}"
			find "${SOCKET%/*}" -maxdepth 0 \! -user mysql -exec chown mysql: '{}' \;
		fi
	fi
}

# Client over the local socket as root; extra arguments come after ours.
docker_exec_client() {
	if [ -n "$MARIADB_DATABASE" ]; then
		set -- --database="$MARIADB_DATABASE" "$@"
	fi
	mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET" "$@"
}

# docker_process_sql [--dont-use-mysql-root-password] [client args] < sql
docker_process_sql() {
	if [ "$1" = --dont-use-mysql-root-password ]; then
		shift
		MYSQL_PWD='' docker_exec_client "$@"
	else
		MYSQL_PWD=$MARIADB_ROOT_PASSWORD docker_exec_client "$@"
	fi
}

# Escape a value for use inside a single-quoted SQL string literal.
docker_sql_escape_string_literal() {
	local s=${1//\\/\\\\}
	s=${s//$'\n'/\\n}
	printf '%s' "${s//\'/\\\'}"
}

random_password() {
	head -c 48 /dev/urandom | base64 -w0 | tr -d '/+=' | cut -c1-32
}

docker_temp_server_start() {
	"$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF \
		--expire-logs-days=0 --skip-slave-start \
		--loose-innodb_buffer_pool_load_at_startup=0 \
		--skip-ssl --ssl-cert='' --ssl-key='' --ssl-ca='' &
	declare -g MARIADB_PID=$!
	mysql_note "Waiting for server startup"
	local auth=()
	if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
		auth=(--dont-use-mysql-root-password)
	fi
	local i
	for i in {60..0}; do
		if docker_process_sql "${auth[@]}" --database=mysql --skip-ssl <<<'SELECT 1' &>/dev/null; then
			break
		fi
		if ! kill -0 "$MARIADB_PID" 2>/dev/null; then
			mysql_error "Temporary server exited during startup."
		fi
		sleep 0.5
	done
	[ "$i" != 0 ] || mysql_error "Unable to start server."
}

docker_temp_server_stop() {
	kill "$MARIADB_PID"
	wait "$MARIADB_PID"
}

docker_init_database_dir() {
	mysql_note "Initializing database files"
	local passthrough=() arg
	for arg in "${@:2}"; do
		if [[ $arg =~ [[:space:]] ]]; then
			mysql_warn "Not passing argument '$arg' to mariadb-install-db (it contains whitespace)."
		else
			passthrough+=("$arg")
		fi
	done
	mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
		"${passthrough[@]}" \
		--cross-bootstrap --skip-test-db --old-mode='UTF8_IS_UTF8MB3' \
		--default-time-zone=SYSTEM --enforce-storage-engine= --skip-log-bin \
		--expire-logs-days=0 \
		--loose-innodb_buffer_pool_load_at_startup=0 \
		--loose-innodb_buffer_pool_dump_at_shutdown=0
	mysql_note "Database files initialized"
}

# SQL that (re)creates the local healthcheck accounts; writes $DATADIR/.my-healthcheck.cnf.
healthcheck_users_sql() {
	local pw grant=${MARIADB_HEALTHCHECK_GRANTS:-USAGE} host
	pw=$(random_password)
	for host in 127.0.0.1 ::1 localhost; do
		echo "CREATE USER IF NOT EXISTS healthcheck@'$host' IDENTIFIED BY '$pw';"
		echo "SET PASSWORD FOR healthcheck@'$host' = PASSWORD('$pw');"
		echo "GRANT $grant ON *.* TO healthcheck@'$host';"
	done
	(umask 0077; printf '[mariadb-client]\nport=%s\nsocket=%s\nuser=healthcheck\npassword=%s\n' \
		"$PORT" "$SOCKET" "$pw" > "$DATADIR/.my-healthcheck.cnf")
}

docker_setup_db() {
	if [ -z "$MARIADB_INITDB_SKIP_TZINFO" ]; then
		mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null \
			| docker_process_sql --dont-use-mysql-root-password --database=mysql
	fi
	if [ -n "$MARIADB_RANDOM_ROOT_PASSWORD" ]; then
		MARIADB_ROOT_PASSWORD=$(random_password)
		export MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD=$MARIADB_ROOT_PASSWORD
		mysql_note "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
	fi

	local root_pw root_local='' root_remote='' local_user='' hc_sql db_sql='' user_sql='' grant_sql=''
	root_pw=$(docker_sql_escape_string_literal "$MARIADB_ROOT_PASSWORD")
	if [ -z "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		root_local="SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$root_pw');"
	fi
	if [ -n "$MARIADB_ROOT_HOST" ] && [ "$MARIADB_ROOT_HOST" != localhost ]; then
		if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
			root_remote="CREATE USER 'root'@'$MARIADB_ROOT_HOST' IDENTIFIED BY PASSWORD '$MARIADB_ROOT_PASSWORD_HASH';"
		else
			root_remote="CREATE USER 'root'@'$MARIADB_ROOT_HOST' IDENTIFIED BY '$root_pw';"
		fi
		root_remote+=" GRANT ALL ON *.* TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;"
		root_remote+=" GRANT PROXY ON ''@'%' TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;"
	fi
	if [ -n "${MARIADB_MYSQL_LOCALHOST_USER:-}" ]; then
		local_user="CREATE USER mysql@localhost IDENTIFIED VIA unix_socket;"
		if [ -n "${MARIADB_MYSQL_LOCALHOST_GRANTS:-}" ]; then
			local_user+=" GRANT ${MARIADB_MYSQL_LOCALHOST_GRANTS} ON *.* TO mysql@localhost;"
		fi
	fi
	hc_sql=$(healthcheck_users_sql)
	if [ -n "$MARIADB_DATABASE" ]; then
		mysql_note "Creating database ${MARIADB_DATABASE}"
		db_sql="CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
	fi
	if [ -n "$MARIADB_USER" ] && { [ -n "$MARIADB_PASSWORD" ] || [ -n "$MARIADB_PASSWORD_HASH" ]; }; then
		mysql_note "Creating user ${MARIADB_USER}"
		if [ -n "$MARIADB_PASSWORD_HASH" ]; then
			user_sql="CREATE USER '$MARIADB_USER'@'$MARIADB_USER_HOST' IDENTIFIED BY PASSWORD '$MARIADB_PASSWORD_HASH';"
		else
			user_sql="CREATE USER '$MARIADB_USER'@'$MARIADB_USER_HOST' IDENTIFIED BY '$(docker_sql_escape_string_literal "$MARIADB_PASSWORD")';"
		fi
		if [ -n "$MARIADB_DATABASE" ]; then
			mysql_note "Giving user ${MARIADB_USER} access to schema ${MARIADB_DATABASE}"
			grant_sql="GRANT ALL ON \`${MARIADB_DATABASE//_/\\_}\`.* TO '$MARIADB_USER'@'$MARIADB_USER_HOST';"
		fi
	fi

	mysql_note "Securing system users (equivalent to running mysql_secure_installation)"
	docker_process_sql --dont-use-mysql-root-password --database=mysql --binary-mode <<-EOSQL
		SET @orig_sql_log_bin = @@SESSION.SQL_LOG_BIN;
		SET @@SESSION.SQL_LOG_BIN = 0;
		SET @@SESSION.SQL_MODE = REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
		DROP USER IF EXISTS root@'127.0.0.1', root@'::1';
		EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');
		${root_local}
		${root_remote}
		${local_user}
		${hc_sql}
		SET @@SESSION.SQL_LOG_BIN = @orig_sql_log_bin;
		${db_sql}
		${user_sql}
		${grant_sql}
	EOSQL
}

# Runs *.sh (executed if executable, else sourced), *.sql, *.sql.gz/.xz/.zst.
docker_process_init_files() {
	# shellcheck disable=SC2034 # kept for init scripts written for the official image
	mysql=(docker_process_sql)
	echo
	local f
	for f; do
		case "$f" in
			*.sh)
				if [ -x "$f" ]; then
					mysql_note "$0: running $f"; "$f"
				else
					mysql_note "$0: sourcing $f"
					# shellcheck disable=SC1090
					. "$f"
				fi ;;
			*.sql) mysql_note "$0: running $f"; docker_process_sql <"$f"; echo ;;
			*.sql.gz) mysql_note "$0: running $f"; gunzip -c "$f" | docker_process_sql; echo ;;
			*.sql.xz) mysql_note "$0: running $f"; xzcat "$f" | docker_process_sql; echo ;;
			*.sql.zst) mysql_note "$0: running $f"; zstd -dc "$f" | docker_process_sql; echo ;;
			*) mysql_warn "$0: ignoring $f" ;;
		esac
		echo
	done
}

docker_mariadb_init() {
	ls /docker-entrypoint-initdb.d/ >/dev/null
	docker_init_database_dir "$@"
	mysql_note "Starting temporary server"
	docker_temp_server_start "$@"
	mysql_note "Temporary server started."
	docker_setup_db
	docker_process_init_files /docker-entrypoint-initdb.d/*
	if [ -n "$MARIADB_ROOT_PASSWORD_HASH" ]; then
		mysql_note "Setting root@localhost password hash"
		docker_process_sql --dont-use-mysql-root-password --binary-mode <<-EOSQL
			SET @@SESSION.SQL_LOG_BIN = 0;
			SET PASSWORD FOR 'root'@'localhost' = '${MARIADB_ROOT_PASSWORD_HASH}';
		EOSQL
	fi
	mysql_note "Stopping temporary server"
	docker_temp_server_stop
	mysql_note "Temporary server stopped"
	echo
	mysql_note "MariaDB init process done. Ready for start up."
	echo
}

# True when the datadir was written by an older major.minor or lacks the healthcheck file.
upgrade_needed() {
	if [ ! -f "$DATADIR/mariadb_upgrade_info" ]; then
		mysql_note "MariaDB upgrade information missing, assuming required"
		return 0
	fi
	local new old
	IFS='.-' read -ra new <<<"$(mariadb_version)"
	IFS='.-' read -ra old <"$DATADIR/mariadb_upgrade_info" || true
	if [ "${#new[@]}" -lt 2 ] || [ "${#old[@]}" -lt 2 ] \
		|| [ "${old[0]}" -lt "${new[0]}" ] \
		|| { [ "${old[0]}" -eq "${new[0]}" ] && [ "${old[1]}" -lt "${new[1]}" ]; }; then
		return 0
	fi
	if [ ! -f "$DATADIR/.my-healthcheck.cnf" ]; then
		mysql_note "MariaDB healthcheck configuration file missing, assuming desirable"
		return 0
	fi
	mysql_note "MariaDB upgrade not required"
	return 1
}

docker_mariadb_upgrade() {
	if [ -z "${MARIADB_AUTO_UPGRADE:-}" ] || [ "$MARIADB_AUTO_UPGRADE" = 0 ]; then
		mysql_note "MariaDB upgrade (mariadb-upgrade or creating healthcheck users) required, but skipped due to \$MARIADB_AUTO_UPGRADE setting"
		return
	fi
	mysql_note "Starting temporary server"
	docker_temp_server_start "$@" --skip-grant-tables --loose-innodb_buffer_pool_dump_at_shutdown=0
	mysql_note "Temporary server started."
	if [ -z "${MARIADB_DISABLE_UPGRADE_BACKUP:-}" ] || [ "$MARIADB_DISABLE_UPGRADE_BACKUP" != 1 ]; then
		local old=unknown_version
		[ -r "$DATADIR/mariadb_upgrade_info" ] && read -r -d '' old <"$DATADIR/mariadb_upgrade_info" || true
		mysql_note "Backing up system database to system_mysql_backup_${old:-unknown_version}.sql.zst"
		mariadb-dump --skip-lock-tables --replace --databases mysql --socket="$SOCKET" \
			| zstd >"$DATADIR/system_mysql_backup_${old:-unknown_version}.sql.zst" \
			|| mysql_error "Unable to back up the system database before upgrading"
	fi
	if [ ! -f "$DATADIR/.my-healthcheck.cnf" ]; then
		mysql_note "Creating healthcheck users"
		local hc_sql
		hc_sql=$(healthcheck_users_sql)
		docker_process_sql --dont-use-mysql-root-password --binary-mode <<-EOSQL
			SET @@SESSION.SQL_LOG_BIN = 0;
			SET @@SESSION.SQL_MODE = REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');
			FLUSH PRIVILEGES;
			${hc_sql}
		EOSQL
	fi
	mysql_note "Starting mariadb-upgrade"
	mariadb-upgrade --upgrade-system-tables --socket="$SOCKET"
	mysql_note "Finished mariadb-upgrade"
	mysql_note "Stopping temporary server"
	docker_temp_server_stop
	mysql_note "Temporary server stopped"
}

wants_help() {
	local arg
	for arg; do
		case "$arg" in
			-'?' | --help | --print-defaults | -V | --version) return 0 ;;
		esac
	done
	return 1
}

_main() {
	if [ "${1:0:1}" = - ]; then
		set -- mariadbd "$@"
	fi
	if { [ "$1" = mariadbd ] || [ "$1" = mysqld ]; } && ! wants_help "$@"; then
		mysql_note "Entrypoint script for MariaDB Server $(mariadb_version) (Debian packages) started."
		check_config "$@"
		docker_setup_env "$@"
		docker_create_db_directories

		if [ "$(id -u)" = 0 ]; then
			mysql_note "Switching to dedicated user 'mysql'"
			export HOME=/var/lib/mysql
			exec setpriv --reuid=mysql --regid=mysql --init-groups -- "${BASH_SOURCE[0]}" "$@"
		fi

		if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
			docker_verify_minimum_env
			docker_mariadb_init "$@"
		elif upgrade_needed; then
			docker_mariadb_upgrade "$@"
		fi
		local p
		for p in ROOT_ REPLICATION_ ''; do
			unset "MARIADB_${p}PASSWORD" "MARIADB_${p}PASSWORD_HASH" "MYSQL_${p}PASSWORD" \
				"MARIADB_${p}PASSWORD_FILE" "MYSQL_${p}PASSWORD_FILE"
		done
		unset MYSQL_ROOT_HOST MYSQL_ROOT_HOST_FILE MARIADB_ROOT_HOST MARIADB_ROOT_HOST_FILE
	fi
	exec "$@"
}

# Sourcing this file (from a test or another script) only defines the functions.
if [ "${#FUNCNAME[@]}" -eq 0 ] || [ "${FUNCNAME[0]}" != source ]; then
	_main "$@"
fi
