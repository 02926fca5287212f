#!/usr/bin/env bash
# Stops what start.sh started (slurmd, slurmctld, then munged), by the PIDs in
# their PID files, and waits for them to exit. Idempotent. Cancels no jobs
# explicitly: the daemons' state in $FOLDWISE_SLURM_DIR is simply removed.
set -euo pipefail
STATE=${FOLDWISE_SLURM_DIR:-/tmp/foldwise-slurm}

stop() {  # stop PIDFILE: TERM the process it names, wait up to 20 s, then KILL
    local pidfile=$1 pid
    [[ -f $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$pidfile"
}

stop "$STATE/slurmd.pid"
stop "$STATE/slurmctld.pid"
[[ ${FOLDWISE_SLURM_KEEP_MUNGE:-0} == 1 ]] || stop /run/munge/munged.pid
rm -rf "$STATE"
echo "slurm: stopped"
