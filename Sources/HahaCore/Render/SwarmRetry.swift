/// Swarm does not always schedule a task again by itself: after staged power cuts Home Assistant's service sat at 0/3
/// for minutes with its tasks rejected ("node is missing network attachments", moby/moby#38318), and a task left
/// pending while its node was away can stay pending once the node is back. `haha up` schedules such a service again
/// (`Deploy.reschedulePending`); this script does the same on the nodes, so the cluster heals without anyone running
/// haha. cron runs it every minute on every node; it acts only on the raft leader.
///
/// A service of the stack that wants tasks, runs none and has none on its way (only pending, rejected or failed ones)
/// at two checks in a row is updated with `--force`, at most once in 5 minutes. A service with one task running is
/// never touched (forcing it would restart a running Home Assistant).
public enum SwarmRetry {
    public static let scriptPath = "/usr/local/sbin/haha-swarm-retry"
    public static let cronPath = "/etc/cron.d/haha-swarm-retry"
    public static let scriptFile = "swarm/haha-swarm-retry"
    public static let cronFile = "swarm/haha-swarm-retry.cron"
    /// What it remembers between runs: when it first saw a service stuck, when it last forced one.
    public static let stateDirectory = "/var/lib/haha/swarm-retry"

    /// Task states on their way to running (`docker service ps` CurrentState's first word), or running.
    public static let aliveStates = ["New", "Allocated", "Assigned", "Accepted", "Preparing", "Ready", "Starting", "Running"]

    public static func script(_ spec: ClusterSpec, minimumGap: Int = 300) -> String {
        """
        #!/bin/sh
        # Rendered by haha for cluster \(spec.name): schedules again a service of stack \(spec.stackName) that runs no task
        # and has none on its way, as `haha up` would (Swarm leaves rejected and pending tasks as they are). Run every
        # minute by cron on every node; only the raft leader acts. Removed by `haha down`.
        set -u
        PATH=$PATH:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
        state=${HAHA_SWARM_RETRY_STATE:-\(stateDirectory)}
        [ "$(docker node inspect self --format '{{.ManagerStatus.Leader}}' 2>/dev/null)" = true ] || exit 0
        mkdir -p "$state"
        now=$(date +%s)
        docker service ls --filter label=com.docker.stack.namespace=\(spec.stackName) --format '{{.Name}} {{.Replicas}}' |
        while read -r name replicas; do
          running=${replicas%%/*}; wanted=${replicas#*/}; wanted=${wanted%% *}
          if [ "$running" != 0 ] || [ "$wanted" = 0 ]; then rm -f "$state/$name.seen"; continue; fi
          states=$(docker service ps --filter desired-state=running --format '{{.CurrentState}}' "$name" 2>/dev/null | awk '{ print $1 }' | tr '\\n' ' ')
          alive=no
          for s in $states; do
            case " \(aliveStates.joined(separator: " ")) " in *" $s "*) alive=yes ;; esac
          done
          if [ "$alive" = yes ]; then rm -f "$state/$name.seen"; continue; fi
          if [ ! -e "$state/$name.seen" ]; then : > "$state/$name.seen"; continue; fi
          last=$(cat "$state/$name.forced" 2>/dev/null || echo 0)
          [ $((now - last)) -ge \(minimumGap) ] || continue
          echo "$now" > "$state/$name.forced"
          rm -f "$state/$name.seen"
          echo "haha-swarm-retry: $name runs no task ($replicas; tasks: ${states:-none}): scheduling it again"
          docker service update --force --detach "$name" >/dev/null
        done

        """
    }

    public static let cron = """
        # haha: schedules again a service Swarm left with no task running (only the raft leader acts).
        * * * * * root \(scriptPath) >> \(logPath) 2>&1

        """

    /// Shell that takes it away again (`haha down`, `haha node remove`).
    public static let removal =
        "rm -f \(cronPath) \(scriptPath) \(logPath) \(stateDirectory)/*.seen \(stateDirectory)/*.forced; rmdir \(stateDirectory) 2>/dev/null || true"
    /// Where cron appends what it did (a line each time it schedules a service again).
    public static let logPath = "/var/log/haha-swarm-retry.log"

    static func files(_ spec: ClusterSpec) -> [RenderedFile] {
        [RenderedFile(path: scriptFile, contents: script(spec)), RenderedFile(path: cronFile, contents: cron)]
    }
}
