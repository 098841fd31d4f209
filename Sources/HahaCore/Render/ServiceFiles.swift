import Foundation

/// Mosquitto's configuration, password file and ACL file.
enum MosquittoFiles {
    /// The health check's options for `mosquitto_sub` (`$XDG_CONFIG_HOME/mosquitto_sub`, one option per line), so
    /// that its password is read from a file and never appears on a command line.
    static func healthcheckOptions(_ secrets: SecretValues) -> String {
        "-u \(healthcheckUser)\n-P \(secrets[SecretCatalog.mqttHealthcheck])\n"
    }

    static let healthcheckUser = "healthcheck"

    static func config(_ spec: ClusterSpec) -> String {
        """
        # Mosquitto configuration for the haha cluster, written once to the shared volume by `haha up`.
        # It is yours to edit; haha never overwrites it. Users and passwords come from the Swarm secret
        # mosquitto-passwd, who may use which topics from mosquitto-acl (both rendered by haha from haha.yaml).

        # Listen on all interfaces; every client must log in and may use only the topics its ACL grants.
        listener \(spec.mqtt.port)
        allow_anonymous false
        password_file /run/secrets/mosquitto-passwd
        acl_file /run/secrets/mosquitto-acl

        # Keep retained messages and persistent sessions on the replicated volume, and save them
        # after every change (the default saves every 30 minutes and loses the rest on a crash).
        persistence true
        persistence_location /mosquitto/data/
        autosave_on_changes true
        autosave_interval 1

        log_dest stdout
        log_type error
        log_type warning
        log_type notice
        log_timestamp_format %Y-%m-%dT%H:%M:%S

        """
    }

    /// Mosquitto 2 password file: `user:$7$101$SALT$HASH` (PBKDF2-HMAC-SHA512, 101 iterations, base64).
    /// The salt is derived from the password and user so that rendering stays deterministic.
    static func passwordFile(_ spec: ClusterSpec, _ secrets: SecretValues) -> String {
        let users = [(healthcheckUser, SecretCatalog.mqttHealthcheck)] + spec.mqtt.users.map { ($0, SecretCatalog.mqttUser($0)) }
        return users.map { user, secret in
            passwordLine(user: user, password: secrets[secret])
        }.joined(separator: "\n") + "\n"
    }

    /// Mosquitto ACL file: healthcheck may only read the broker's `$SYS` topics; homeassistant, and every user
    /// without rules in `mqtt.acl`, may read and write every topic (`#` does not cover `$SYS`); the others get their rules.
    static func aclFile(_ spec: ClusterSpec) -> String {
        var lines = [
            "# Mosquitto ACL for the haha cluster, rendered by haha from haha.yaml (mqtt.users, mqtt.acl): a Swarm secret.",
            "# A user not listed here may use no topic.",
            "",
            "user \(healthcheckUser)",
            "topic read $SYS/#",
        ]
        for user in spec.mqtt.users {
            let rules = user == "homeassistant" ? [] : spec.mqtt.acl.filter { $0.user == user }
            lines += ["", "user \(user)"]
            lines += rules.isEmpty ? ["topic readwrite #"] : rules.map { "topic \($0.access.rawValue) \($0.topic)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func passwordLine(user: String, password: String, salt explicitSalt: [UInt8]? = nil) -> String {
        let salt =
            explicitSalt ?? Array(SHA512.hmac(key: Array(password.utf8), message: Array("haha mosquitto salt \(user)".utf8)).prefix(12))
        let hash = SHA512.pbkdf2(password: Array(password.utf8), salt: salt, iterations: 101, length: 64)
        return "\(user):$7$101$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }
}

/// Galera (MariaDB) options, the SST credentials and the SQL that creates the SST user.
public enum GaleraFiles {
    static func config(_ spec: ClusterSpec) -> String {
        // Members find each other at their nodes' addresses (host-mode ports), not only by Swarm's DNS: that lists a
        // task only once it is healthy, and a member is healthy only once it is in a primary component, so after a
        // power cut of every node the members could never resolve each other to form one again. The service names
        // stay in the list for members deployed before (they listen only on the overlay network) while `haha up`
        // restarts them one at a time; names that do not resolve are skipped.
        let members = (spec.dataNodes.map(\.address) + spec.dataNodes.map { Renderer.Names.galera($0.name) }).joined(separator: ",")
        return """
            # Galera settings for the haha cluster, rendered by haha (a Swarm config; edit haha.yaml, not this).
            # Sized for a Raspberry Pi: small buffer pool and gcache. Each member's name comes from its command line.
            [mariadb]
            bind-address = 0.0.0.0
            binlog_format = ROW
            default_storage_engine = InnoDB
            innodb_autoinc_lock_mode = 2
            innodb_buffer_pool_size = \(spec.database.bufferPoolSize)
            innodb_log_file_size = 48M
            max_connections = 60
            performance_schema = OFF
            character_set_server = utf8mb4
            collation_server = utf8mb4_unicode_ci

            wsrep_on = ON
            wsrep_provider = /usr/lib/galera/libgalera_smm.so
            wsrep_cluster_name = \(spec.database.clusterName)
            wsrep_cluster_address = gcomm://\(members)
            wsrep_sst_method = mariabackup
            # Suspect a silent member after 5 s, evict it after 15 s; gcache sized for a Pi. Each member advertises its
            # node's address (command line) and listens in its container on every interface.
            wsrep_provider_options = "gcache.size=\(spec.database.gcacheSize);gcache.recover=yes;evs.suspect_timeout=PT5S;evs.inactive_timeout=PT15S;pc.recovery=TRUE;ist.recv_bind=0.0.0.0"

            # The SST user's credentials live in a Swarm secret, not here.
            !include /run/secrets/galera-sst.cnf

            """
    }

    /// Where the watchdog is mounted in each member's container (the entrypoint runs it, and it runs the image's own).
    static let watchdogPath = "/haha/galera-watch.sh"

    /// The member's watchdog (bash: the official MariaDB image has no other interpreter). It starts the image's
    /// entrypoint and stops the member, so that Swarm starts it again and it rejoins by state transfer, when another
    /// member (through the database alias, which lists only ready members) answered that it is in a primary component
    /// and, for `grace` s in a row, this member's server answered that it is outside one and not in a state transfer;
    /// or, for `quietGrace` s in a row, did not answer at all while no state transfer script ran (a joiner whose IST
    /// failed after an SST hangs so: "node restart required"). Without a primary anywhere (every node was cut)
    /// Galera's own recovery (`pc.recovery`) re-forms the cluster, and the watchdog steps in only in the cases Galera
    /// leaves to the operator. First, the members left one by one and cleanly (their saved views gone with the
    /// stops), and the last of them, which says `safe_to_bootstrap: 1`, bootstraps once it sees every other member up
    /// within `lookForPeers` s (members later in the list wait `staggerBootstrap` s more each). A member that crashed
    /// starts from the position `--wsrep-recover` reads from its data. When no member is in a primary component for
    /// `noPrimaryGrace` s (Galera's recovery did not form one), every member is up and every position is known, the
    /// member with the most committed writes restarts to bootstrap. The watchdogs learn each other's positions on
    /// `statePort` (no server answers before a primary component forms).
    public static func watchdog(
        _ spec: ClusterSpec, grace: Int = 60, quietGrace: Int = 180, interval: Int = 5, lookForPeers: Int = 90, staggerBootstrap: Int = 30,
        noPrimaryGrace: Int = 30
    ) -> String {
        """
        #!/bin/bash
        # haha's watchdog for one Galera member, rendered by haha (a Swarm config; edit haha.yaml, not this).
        # Restarts a member that sits outside the primary component while the others have one (see GaleraFiles).
        grace=${HAHA_WATCH_GRACE:-\(grace)}
        quiet_grace=${HAHA_WATCH_QUIET_GRACE:-\(quietGrace)}
        every=${HAHA_WATCH_INTERVAL:-\(interval)}
        peers=${HAHA_WATCH_PEERS:-\(Renderer.Names.databaseAlias)}
        # A stop (docker stop sends TERM) is passed on to the member, and one that comes before it started means
        # it never starts: the trap is set before anything else runs.
        member=
        stopping=
        trap 'stopping=1; [ -n "$member" ] && kill -TERM "$member" 2>/dev/null' TERM INT
        # Runs one statement as root on the server reached with the options that follow it.
        sql() {
          local statement=$1; shift
          # The password reaches the client through an option file on a pipe (printf is a builtin): never an argument.
          mariadb --defaults-extra-file=<(printf '[client]\\nuser=root\\npassword="%s"\\n' "$(cat "$MARIADB_ROOT_PASSWORD_FILE" 2>/dev/null)") \\
            --connect-timeout=3 -N -B "$@" -e "$statement" 2>/dev/null
        }
        # Prints the values of the named status variables, "/" between them, of the server reached with the options
        # that follow the names; fails when it does not answer or lacks one of them.
        show() {
          local names=$1 list=; shift
          for n in $names; do list+="${list:+,}'$n'"; done
          sql "SHOW STATUS WHERE Variable_name IN ($list)" "$@" |
            awk -F'\\t' -v names="$names" '{ v[$1] = $2 } END { n = split(names, k, " "); for (i = 1; i <= n; i++) { if (!(k[i] in v)) exit 1; out = out (i > 1 ? "/" : "") v[k[i]] } print out }'
        }
        # "<cluster status>/<local state>".
        ask() { show "wsrep_cluster_status wsrep_local_state_comment" "$@"; }
        # Never a second primary component: a member told to bootstrap (--wsrep-new-cluster) whose peers already
        # have one joins them instead (a bootstrapper that restarted after the others went on without it).
        args=()
        for a in "$@"; do
          if [ "$a" = --wsrep-new-cluster ] && theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; then
            echo "[haha-galera-watch] not bootstrapping: $peers already has a primary component ($theirs); joining it" >&2
            continue
          fi
          args+=("$a")
        done
        datadir=${HAHA_WATCH_DATADIR:-/var/lib/mysql}
        # This member's position, `<uuid>:<seqno>`, as far as the watchdog knows it: from grastate.dat after a clean
        # stop, from its data after a crash (below), and from the server once it answers.
        position=$(awk '/^uuid:/ { u = $2 } /^seqno:/ { s = $2 } END { if (u != "" && s ~ /^[0-9]+$/) print u ":" s }' "$datadir/grastate.dat" 2>/dev/null)
        # The watchdog tells the other members' watchdogs this member's position and phase (`starting`: its server
        # does not answer yet; `last`: it left the primary component last and may bootstrap; `bootstrapping`: it
        # starts a new primary component, haha up's choice or its own; `outside`; `primary`),
        # one line to whoever connects to its node's port \(statePort). After a power cut of every node no server answers
        # SQL until a primary component forms, and the bootstrap below needs every member's position.
        state=$(mktemp)
        phase=starting
        publish() { phase=${1:-$phase}; printf '%s %s\\n' "${position:-unknown}" "$phase" > "$state.new" && mv -f "$state.new" "$state"; }
        publish
        state_port=${HAHA_WATCH_STATE_PORT-\(statePort)}
        if [ -n "$state_port" ]; then socat -T 2 "TCP-LISTEN:$state_port,reuseaddr,fork" "SYSTEM:cat $state" & fi
        # The line the watchdog of the member at <host>:<port> publishes, or nothing.
        state_of() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "state\\n" >&3 && head -n 1 <&3' _ "${1%:*}" "${1##*:}" 2>/dev/null; }
        # The last member to leave the primary component cleanly holds every committed write: Galera wrote
        # safe_to_bootstrap: 1 in its grastate.dat (a member that ran since says 0). The others' clean stops took their
        # saved views with them, so Galera's own recovery (pc.recovery) cannot form a component again and no member
        # would ever start. When no peer has a primary component and every other member's group port answered in
        # the last look (they are up, looking for one), this member bootstraps: rule 5 of haha's recovery planner,
        # which `haha up` applies with every member's position at hand. Members later in the list wait longer
        # before they decide, and then join a component formed meanwhile (two flags: only after a forced recovery).
        members=(${HAHA_WATCH_MEMBERS:-\(spec.dataNodes.map(\.address).joined(separator: " "))})
        # Where each member's watchdog publishes its state (a test names its own; else each member's node address).
        state_addresses=(${HAHA_WATCH_STATE_ADDRESSES:-})
        look=${HAHA_WATCH_LOOK:-\(lookForPeers)}
        stagger=${HAHA_WATCH_STAGGER:-\(staggerBootstrap)}
        # An address answers when something listens on its group port; a test's member may name its own port.
        listening() { local port=${HAHA_WATCH_GROUP_PORT:-4567}; [[ $1 == *:* ]] && port=${1##*:}; timeout 2 bash -c "exec 3<>/dev/tcp/${1%%:*}/$port" 2>/dev/null; }
        address=
        for a in "${args[@]}"; do case "$a" in --wsrep-node-address=*) address=${a#*=} ;; esac; done
        if [[ " ${args[*]} " != *" --wsrep-new-cluster "* ]] && grep -qs '^safe_to_bootstrap: *1' "$datadir/grastate.dat"; then
          publish last
          others=(); index=0
          for m in "${members[@]}"; do
            if [ "${m%%:*}" = "$address" ]; then index=${#others[@]}; else others+=("$m"); fi
          done
          declare -A seen=()
          for ((waited = 0; waited < look && ${#others[@]} > 0; waited += 2)); do
            [ -z "$stopping" ] || break
            if theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; then break; fi
            for m in "${others[@]}"; do [ -n "${seen[$m]}" ] || ! listening "$m" || seen[$m]=1; done
            if [ "${#seen[@]}" -ge "${#others[@]}" ]; then
              sleep $((index * stagger)) & wait $!
              if [ -z "$stopping" ] && ! { theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; }; then
                echo "[haha-galera-watch] this member left the primary component last (safe_to_bootstrap: 1), no peer has one and every other member is up (${others[*]}): bootstrapping" >&2
                args+=(--wsrep-new-cluster)
              fi
              break
            fi
            sleep 2 & wait $!
          done
        fi
        if [[ " ${args[*]} " == *" --wsrep-new-cluster "* ]]; then publish bootstrapping; else publish starting; fi
        if [ -n "$stopping" ]; then exit 143; fi
        # A state transfer's pid file left by a member that died during one: every process of that container ended
        # with it, but MariaDB's SST script would take whatever process has that pid in this new container for a
        # transfer still running and refuse to start one ("previous SST script still running"), at every restart.
        rm -f "$datadir/wsrep_sst.pid"
        # A member that crashed (a power cut) left `seqno: -1`, and the image starts it from no position at all: the
        # component Galera's own recovery then re-forms has no history (group UUID 0) and no member can ever join it
        # by state transfer. As MariaDB's galera_recovery does under systemd, the position is read from the data
        # (--wsrep-recover) and given to the member. The saved view (gvwstate.dat) stays as it was.
        if grep -qs '^seqno: *-1' "$datadir/grastate.dat" && ! grep -qs '^uuid: *\(GaleraRecovery.nilUUID)' "$datadir/grastate.dat"; then
          log=$(mktemp) && chmod 666 "$log"
          [ -f "$datadir/gvwstate.dat" ] && cp -p "$datadir/gvwstate.dat" "$log.view"
          mariadbd --user=mysql --wsrep-recover --log-error="$log" >/dev/null 2>&1
          [ -f "$log.view" ] && [ ! -f "$datadir/gvwstate.dat" ] && cp -p "$log.view" "$datadir/gvwstate.dat"
          position=$(sed -n 's/.*WSREP: Recovered position: *\\([0-9a-f-]*:[0-9][0-9]*\\).*/\\1/p' "$log" | tail -n 1)
          rm -f "$log" "$log.view"
          if [ -n "$position" ]; then
            echo "[haha-galera-watch] this member crashed (seqno: -1); its data holds $position: starting from there" >&2
            args+=("--wsrep-start-position=$position")
          else
            echo "[haha-galera-watch] this member crashed (seqno: -1) and --wsrep-recover found no position: starting without one" >&2
          fi
          publish
        fi
        docker-entrypoint.sh "${args[@]}" &
        member=$!
        if [ -n "$stopping" ]; then kill -TERM "$member" 2>/dev/null; fi
        # A full state transfer runs as a script (wsrep_sst_*) beside the server (the brackets keep grep from
        # finding its own command line).
        transferring() { grep -qs 'wsrep_ss[t]_' "${HAHA_WATCH_PROC:-/proc}"/[0-9]*/cmdline; }
        # Stops the member: TERM, and KILL when it is still running the given seconds later; `status` is how it
        # ended. A server waiting for a primary component (it has not opened its data for writes) ignored a TERM for
        # a minute on the lab, and one whose join failed after a state transfer hung in its shutdown for 9 minutes.
        kill_after=${HAHA_WATCH_KILL_AFTER:-60}
        status=
        stop_member() {
          kill -TERM "$member" 2>/dev/null
          for ((w = 0; w < $1; w++)); do kill -0 "$member" 2>/dev/null || break; sleep 1 & wait $!; done
          if kill -0 "$member" 2>/dev/null; then
            echo "[haha-galera-watch] the member ignored the stop for $1 s: killing it" >&2
            kill -KILL "$member" 2>/dev/null
          fi
          reap_member
        }
        # Waits until the member has really ended (a wait that a signal interrupts returns early); `status` is how.
        reap_member() {
          wait "$member" 2>/dev/null; status=$?
          while kill -0 "$member" 2>/dev/null; do wait "$member" 2>/dev/null; status=$?; done
        }
        # No member in a primary component for `nowhere_grace` s: Galera's own recovery (pc.recovery) did not form
        # one. It re-forms the last component only when exactly its members meet; after staged power cuts a member
        # cut earlier brings an older saved view, and when it comes up at the same time nothing forms. Whether this
        # member is the one to bootstrap, as rule 5 of haha's recovery planner says: every other member's watchdog
        # answers, none is in a primary component or about to bootstrap, every position is known and of one history
        # (a member with none, which a full transfer will fill, aside), and no member holds more committed writes
        # (the first in the list goes on a tie). Prints why not.
        nowhere_grace=${HAHA_WATCH_NO_PRIMARY_GRACE:-\(noPrimaryGrace)}
        # Every other member's published line by its place in the list (empty: its watchdog did not answer), read once
        # per look and judged by all_waiting, then by most_advanced.
        peer_line=()
        read_peers() {
          local i host
          peer_line=()
          for i in "${!members[@]}"; do
            host=${members[$i]%%:*}
            [ "$host" != "$address" ] || continue
            peer_line[$i]=$(state_of "${state_addresses[$i]:-$host:$state_port}")
          done
        }
        # Whether every other member's watchdog answered and none is in, or starting, a primary component; prints why not.
        all_waiting() {
          local i host state
          for i in "${!members[@]}"; do
            host=${members[$i]%%:*}
            [ "$host" != "$address" ] || continue
            if [ -z "${peer_line[$i]}" ]; then echo "the watchdog of the member at $host does not answer"; return 1; fi
            state=${peer_line[$i]##* }
            case "$state" in primary | last | bootstrapping) echo "the member at $host is $state"; return 1 ;; esac
          done
        }
        # Whether this member, among members all_waiting found waiting, holds the most committed writes; prints why not.
        most_advanced() {
          local uuid=${position%:*} seqno=${position##*:} earlier=1 ahead= i host p u q
          if ! [[ $seqno =~ ^[0-9]+$ ]]; then echo "this member's position is unknown: leaving it to haha up"; return 1; fi
          for i in "${!members[@]}"; do
            host=${members[$i]%%:*}
            if [ "$host" = "$address" ]; then earlier=; continue; fi
            p=${peer_line[$i]%% *}
            u=${p%:*}; q=${p##*:}
            [ "$u" != \(GaleraRecovery.nilUUID) ] || continue
            if [ "$u" != "$uuid" ] || ! [[ $q =~ ^[0-9]+$ ]]; then
              echo "the member at $host is at $p, this one at $position: leaving it to haha up"; return 1
            fi
            if [ "$q" -gt "$seqno" ] || { [ -n "$earlier" ] && [ "$q" -eq "$seqno" ]; }; then ahead="$host ($p)"; fi
          done
          if [ -n "$ahead" ]; then echo "the member at $ahead bootstraps, not this one ($position)"; return 1; fi
        }
        outside=0
        quiet=0
        nowhere=0
        waiting_why=
        while kill -0 "$member" 2>/dev/null; do
          sleep "$every" & wait $!
          [ -z "$stopping" ] || break
          kill -0 "$member" 2>/dev/null || break
          if own=$(show "wsrep_local_state_uuid wsrep_last_committed wsrep_cluster_status wsrep_local_state_comment" --protocol=socket); then
            quiet=0
            IFS=/ read -r uuid committed mine <<< "$own"
            if [[ $committed =~ ^[0-9]+$ ]] && [ "$uuid" != \(GaleraRecovery.nilUUID) ]; then position=$uuid:$committed; fi
            case "$mine" in
              Primary/*) publish primary; outside=0; nowhere=0; continue ;;
              */Join*|*/Donor*) publish outside; outside=0; nowhere=0; continue ;;
            esac
            publish outside
          else
            mine=
            outside=0
            publish starting
            if transferring; then quiet=0; nowhere=0; continue; fi
          fi
          if ! theirs=$(ask -h "$peers") || [[ $theirs != Primary/* ]]; then
            outside=0; quiet=0
            # Counted only while every other member's watchdog answers and none is in a primary component: when the
            # last member arrives, Galera's own recovery may still form one within seconds (seen on the lab and in CI
            # after a power cut of every node, when a bootstrap 2 s after the last arrival made a second component).
            read_peers
            if why=$(all_waiting); then
              nowhere=$((nowhere + every)); waiting_why=
            else
              nowhere=0
              [ "$why" = "$waiting_why" ] || echo "[haha-galera-watch] no primary component here; not counting: $why" >&2
              waiting_why=$why
            fi
            if [ "$nowhere" -ge "$nowhere_grace" ]; then
              nowhere=0
              if why=$(most_advanced); then
                echo "[haha-galera-watch] no primary component anywhere for $nowhere_grace s, every member is up, and this one holds the most committed writes ($position): restarting it to bootstrap" >&2
                publish bootstrapping
                stop_member "${HAHA_WATCH_RESTART_KILL_AFTER:-10}"
                [ -z "$stopping" ] || exit "$status"
                # Galera bootstraps only a member marked safe; the saved view goes (a member killed keeps it, and
                # would come back under its old identity, which the others have not evicted yet: on the lab they then
                # failed to merge with it, "failed to form singleton view").
                sed -i 's/^safe_to_bootstrap: *0/safe_to_bootstrap: 1/' "$datadir/grastate.dat"
                rm -f "$datadir/gvwstate.dat"
                next=()
                for a in "${args[@]}"; do case "$a" in --wsrep-start-position=*|--wsrep-new-cluster) ;; *) next+=("$a") ;; esac; done
                next+=("--wsrep-start-position=$position")
                # A component that formed during the stop is joined, never a second one started beside it: asked
                # through the alias and, once their phases are fresh, of every watchdog (the alias lists a member
                # only once its health check passed).
                sleep $((every + 1)) & wait $!
                read_peers
                if theirs=$(ask -h "$peers") && [ "${theirs%%/*}" = Primary ]; then
                  echo "[haha-galera-watch] not bootstrapping: $peers has a primary component now ($theirs); joining it" >&2
                  publish starting
                elif ! why=$(all_waiting); then
                  echo "[haha-galera-watch] not bootstrapping: $why; joining" >&2
                  publish starting
                else
                  next+=(--wsrep-new-cluster)
                fi
                docker-entrypoint.sh "${next[@]}" &
                member=$!
              else
                echo "[haha-galera-watch] no primary component anywhere for $nowhere_grace s; $why" >&2
              fi
            fi
            continue
          fi
          nowhere=0
          if [ -n "$mine" ]; then
            outside=$((outside + every)); waited=$outside; limit=$grace; what="outside the primary component ($mine)"
          else
            quiet=$((quiet + every)); waited=$quiet; limit=$quiet_grace; what="not answering, no state transfer running"
          fi
          echo "[haha-galera-watch] $what for $waited s while $peers has one ($theirs)" >&2
          if [ "$waited" -ge "$limit" ]; then
            echo "[haha-galera-watch] stopping this member; Swarm starts it again and it rejoins" >&2
            stop_member "$kill_after"
            exit "$status"
          fi
        done
        reap_member
        exit "$status"

        """
    }

    /// Group communication, incremental and full state transfer: published on each member's node (host mode).
    static let ports = [4567, 4568, 4444]
    /// The client port, published on each data node when Home Assistant runs on the host's network and reaches its
    /// node's member there.
    public static let clientPort = 3306
    /// Where each member's watchdog tells the others its position and whether it is in a primary component (one
    /// line, `<uuid>:<seqno> <phase>`), for the bootstrap after a power cut of every node.
    public static let statePort = 4569

    /// The ports each member publishes on its node (guarded by `GaleraFirewall`).
    static func publishedPorts(_ spec: ClusterSpec) -> [Int] { ports + [statePort] + (spec.homeAssistant.hostNetwork ? [clientPort] : []) }

    static func sstOptions(_ spec: ClusterSpec, _ secrets: SecretValues) -> String {
        "[mariadb]\nwsrep_sst_auth = haha_sst:\(secrets[SecretCatalog.galeraSST])\n"
    }

    static func initSQL(_ spec: ClusterSpec, _ secrets: SecretValues) -> String {
        """
        -- Run once by the MariaDB entrypoint when a member's data directory is new: the user Galera's
        -- mariabackup state transfer logs in as. Rendered by haha; the password is in haha's secrets directory.
        CREATE USER IF NOT EXISTS 'haha_sst'@'localhost' IDENTIFIED BY '\(secrets[SecretCatalog.galeraSST])';
        GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'haha_sst'@'localhost';

        """
    }
}

/// Home Assistant's configuration.yaml (written once, the user's afterwards) and secrets.yaml (a Swarm secret).
enum HomeAssistantFiles {
    static func configuration(_ spec: ClusterSpec) -> String {
        """
        # Home Assistant configuration for the haha cluster, written once to the shared volume by `haha up`.
        # It is yours to edit; haha never overwrites it. The recorder's database URL (with its password)
        # comes from secrets.yaml, which is a Swarm secret mounted at /config/secrets.yaml.
        # The MQTT broker is set up by `haha up` as an integration (a config entry), not here.
        homeassistant:
          name: \(SpecWriter.q(spec.homeAssistant.name))
          time_zone: \(SpecWriter.q(spec.homeAssistant.timeZone))

        frontend:
        config:
        history:
        logbook:
        system_health:

        recorder:
          db_url: !secret recorder_db_url
          purge_keep_days: 10
        \(spec.homeAssistant.hostNetwork ? discovery : "")
        """
    }

    /// On the host's network Home Assistant sees the LAN: what `default_config:` would start for discovery.
    static let discovery = """

        # Discovery on the LAN (homeAssistant.hostNetwork: Home Assistant runs on its node's network).
        zeroconf:
        ssdp:
        dhcp:

        """

    static func secrets(_ spec: ClusterSpec, _ secrets: SecretValues) -> String {
        let url =
            "\(spec.homeAssistant.recorderScheme)://\(spec.database.user):\(secrets[SecretCatalog.recorder])@\(Renderer.Names.databaseAlias)/\(spec.database.name)?charset=utf8mb4"
        return """
            # Home Assistant secrets for the haha cluster: a Swarm secret rendered by haha. Do not copy it to the shared volume.
            recorder_db_url: \(SpecWriter.q(url))

            """
    }
}

/// HAProxy on every node (routing: proxy): forwards Home Assistant and MQTT to their current tasks.
enum ProxyFiles {
    static func config(_ spec: ClusterSpec) -> String {
        let names = Renderer.Names.self
        let homeAssistant = """
            frontend homeassistant
              bind :8123
              default_backend homeassistant_tasks

            # \(spec.fenced ? "One slot per data node: each runs a fence (standby or active); only the active one answers the checks." : "One replica, wherever Swarm runs it (failover: swarm); the spare slots stay empty.")
            backend homeassistant_tasks
              server-template ha \(spec.dataNodes.count + 1) tasks.\(names.homeAssistant):8123


            """
        return """
            # HAProxy on every node of the haha cluster (routing: proxy), rendered by haha.
            # \(spec.homeAssistant.hostNetwork ? "Any node's port \(spec.mqtt.port) reaches Mosquitto wherever it runs (Home Assistant, on the host's network, serves its own port)." : "Any node's ports \(spec.homeAssistant.port) and \(spec.mqtt.port) reach Home Assistant and Mosquitto wherever Swarm runs them.")
            global
              log stdout format raw local0 notice
              maxconn 1024

            resolvers docker
              nameserver swarm 127.0.0.11:53
              resolve_retries 3
              timeout resolve 1s
              timeout retry 1s
              hold valid 2s
              hold nx 2s
              hold obsolete 2s

            defaults
              mode tcp
              log global
              timeout connect 3s
              timeout client 1h
              timeout server 1h
              # A standby's slot is down and probed every 500 ms: the instance that takes over gets traffic at once. A slot
              # that is new (a task started, HAProxy restarted) is down until its first check passes (HAProxy 3.1+): up
              # by default, it took a request for a standby as a node came back (a refused connection, seen on the lab).
              default-server init-state down init-addr last,libc,none resolvers docker check inter 2s downinter 500ms fall 2 rise 1

            frontend health
              mode http
              bind 127.0.0.1:8405
              monitor-uri /healthz

            \(spec.homeAssistant.hostNetwork ? "" : homeAssistant)frontend mqtt
              bind :\(spec.mqtt.port)
              default_backend mqtt_tasks

            # \(Renderer.brokerFollowsLease(spec) ? "One slot per data node: each runs a broker's standby; only the lease holder's broker answers the checks." : "One replica, wherever Swarm runs it; the spare slots stay empty.")
            backend mqtt_tasks
              server-template mqtt \(spec.dataNodes.count + 1) tasks.\(names.mosquitto):\(spec.mqtt.port)

            """
    }
}
