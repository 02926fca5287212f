#!/usr/bin/env bash
# Stops what start.sh started (slurmd, slurmctld, then munged if it started it), by the PIDs in
# their PID files, waits for them to exit, and removes the state directory and
# the /etc/slurm files start.sh wrote. Idempotent.
set -euo pipefail
STATE=${FOLDWISE_SLURM_DIR:-/tmp/foldwise-slurm}

stop() {  # stop PIDFILE: TERM the process it names, wait up to 20 s, then KILL
    local pidfile=$1 pid
    [[ -f $pidfile ]] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    fi
    rm -f "$pidfile"
}

stop "$STATE/slurmd.pid"
stop "$STATE/slurmctld.pid"
if [[ -f $STATE/munged.ours ]]; then stop /run/munge/munged.pid; fi
for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
    if grep -qsF "# written by foldwise tests/slurm/start.sh" "$f"; then rm -f "$f"; fi
done
rm -rf "$STATE"
echo "slurm: stopped"
