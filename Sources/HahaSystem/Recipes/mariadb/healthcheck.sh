#!/bin/bash
# healthcheck.sh for the haha lab MariaDB image. Accepts the flags of the official
# image's healthcheck.sh; each --TEST runs in order and the first failure exits 1.
#
#   --connect                    server accepts connections (socket, else TCP on localhost)
#   --innodb_initialized         InnoDB finished crash recovery
#   --innodb_buffer_pool_loaded  buffer pool load completed
#   --galera_online              wsrep_local_state = 4 (Synced)
#   --galera_ready               wsrep_ready = ON
#   --replication [--replication_io --replication_sql --replication_seconds_behind_master=N
#                  --replication_sql_remaining_delay=N --replication_name=N --replication_all]
#   --mariadbupgrade             no mariadb-upgrade in progress
#   --su=USER | --su USER | --su-mysql   re-run as that unix user (use first)
#   --datadir=DIR  --no-defaults  --defaults-file=F  --defaults-extra-file=F
#   --defaults-group-suffix=S  --no-connect
#
# Credentials: $datadir/.my-healthcheck.cnf (written by the entrypoint) is used as an extra
# defaults file when present, unless --no-defaults or another defaults option is given.
set -eo pipefail

declare -A def=()
declare -A repl=()
nodefaults=
connect_s=
datadir=/var/lib/mysql

# Fills the global array CLIENT_ARGS with the defaults options chosen so far.
client_args() {
	CLIENT_ARGS=()
	if [ -n "$nodefaults" ]; then CLIENT_ARGS+=(--no-defaults); fi
	if [ -n "${def[file]:-}" ]; then CLIENT_ARGS+=("--defaults-file=${def[file]}"); fi
	if [ -n "${def[extra_file]:-}" ]; then CLIENT_ARGS+=("--defaults-extra-file=${def[extra_file]}"); fi
	if [ -n "${def[group_suffix]:-}" ]; then CLIENT_ARGS+=("--defaults-group-suffix=${def[group_suffix]}"); fi
}

sql() {
	client_args
	mariadb "${CLIENT_ARGS[@]}" --skip-ssl --skip-ssl-verify-server-cert --protocol socket -B "$@"
}

status_value() {
	sql --skip-column-names -e "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='$1'"
}

connect() {
	local s
	s=$(sql --skip-column-names -e 'SELECT @@skip_networking' 2>/dev/null || true)
	case "$s" in
		0 | 1) connect_s=$s; return "$s" ;;
	esac
	client_args
	s=$(mariadb "${CLIENT_ARGS[@]}" --skip-ssl --skip-ssl-verify-server-cert -h localhost --protocol tcp \
		--skip-column-names --batch --skip-print-query-on-error -e 'SELECT @@skip_networking' 2>&1 || true)
	case "$s" in
		1 | 'ERROR 2002 (HY000):'*) connect_s=1 ;;
		# reached the server: networking on, or refused for reasons that prove it answers
		0 | 'ERROR 1820 (HY000)'* | 'ERROR 4151 (HY000):'* | 'ERROR 1226 (42000)'* | ERROR\ 1[0-9][0-9][0-9]\ \(28000\):*) connect_s=0 ;;
		*) echo "Unknown error $s" >&2; connect_s=1 ;;
	esac
	return "$connect_s"
}

innodb_initialized() {
	[ "$(sql --skip-column-names -e "SELECT 1 FROM information_schema.ENGINES WHERE engine='innodb' AND support IN ('YES','DEFAULT','ENABLED')")" = 1 ]
}

innodb_buffer_pool_loaded() {
	[[ $(status_value Innodb_buffer_pool_load_status) =~ 'load completed' ]]
}

galera_online() {
	# 4 = Synced (Galera node state machine)
	[ "$(status_value WSREP_LOCAL_STATE)" = 4 ]
}

galera_ready() {
	[ "$(status_value WSREP_READY)" = ON ]
}

replication() {
	local what="SHOW REPLICA STATUS"
	if [ -n "${repl[all]:-}" ]; then
		what="SHOW ALL REPLICAS STATUS"
	elif [ -n "${repl[name]:-}" ]; then
		what="SHOW REPLICA '${repl[name]}' STATUS"
	fi
	local out n v found=
	out=$(sql -e "$what\\G") || return 1
	while IFS=: read -r n v; do
		n=${n#"${n%%[![:space:]]*}"}
		v=${v# }
		case "$n" in
			Slave_IO_Running) found=1; [ -n "${repl[io]:-}" ] && [ "$v" = No ] && return 1 ;;
			Slave_SQL_Running) [ -n "${repl[sql]:-}" ] && [ "$v" = No ] && return 1 ;;
			Seconds_Behind_Master)
				if [ -n "${repl[seconds_behind_master]:-}" ] && { [ "$v" = NULL ] || (( repl[seconds_behind_master] < v )); }; then
					return 1
				fi ;;
			SQL_Remaining_Delay)
				if [ -n "${repl[sql_remaining_delay]:-}" ] && [ "$v" != NULL ] && (( repl[sql_remaining_delay] < v )); then
					return 1
				fi ;;
		esac
	done <<<"$out"
	[ -n "$found" ]
}

mariadbupgrade() {
	local f="$datadir/mariadb_upgrade_info"
	if [ -r "$f" ]; then
		flock --exclusive --nonblock 9 9<"$f"
		return $?
	fi
	return 0
}

run_as() {
	local u=$1; shift
	exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "${BASH_SOURCE[0]}" "$@"
}

if [ $# -eq 0 ]; then
	echo "At least one argument required" >&2
	exit 1
fi

if [ -f "$datadir/.my-healthcheck.cnf" ]; then
	def[extra_file]="$datadir/.my-healthcheck.cnf"
fi

while [ $# -gt 0 ]; do
	test=
	case "$1" in
		--su=*) u=${1#*=}; shift; run_as "$u" "$@" ;;
		--su) u=$2; shift 2; run_as "$u" "$@" ;;
		--su-mysql) shift; run_as mysql "$@" ;;
		--replication_*=*)
			n=${1#--replication_}; n=${n%%=*}; n=${n,,}
			repl[$n]=${1#*=} ;;
		--replication_*)
			n=${1#--replication_}; n=${n,,}
			if [ $# -lt 2 ] || [ "${2:0:2}" = -- ]; then
				repl[$n]=1
			else
				repl[$n]=$2; shift
			fi ;;
		--datadir=*) datadir=${1#*=} ;;
		--datadir) shift; datadir=$1 ;;
		--no-defaults) def=(); nodefaults=1 ;;
		--defaults-file=* | --defaults-extra-file=* | --defaults-group-suffix=*)
			n=${1#--defaults-}; n=${n%%=*}; n=${n//-/_}
			def[$n]=${1#*=}; nodefaults= ;;
		--defaults-file | --defaults-extra-file | --defaults-group-suffix)
			n=${1#--defaults-}; n=${n//-/_}
			if [ $# -lt 2 ] || [ "${2:0:2}" = -- ]; then
				def[$n]=
			else
				def[$n]=$2; shift
			fi
			nodefaults= ;;
		--no-connect) connect_s=0 ;;
		--*) test=${1#--} ;;
		*) echo "Unknown healthcheck option $1" >&2; exit 1 ;;
	esac
	if [ -n "$test" ]; then
		case "$test" in
			connect | innodb_initialized | innodb_buffer_pool_loaded | galera_online | galera_ready | replication | mariadbupgrade) ;;
			*) echo "healthcheck unknown option or test '$test'" >&2; exit 1 ;;
		esac
		if ! "$test"; then
			echo "healthcheck $test failed" >&2
			exit 1
		fi
	fi
	shift
done

if [ "$connect_s" != 0 ]; then
	connect
	exit $?
fi
