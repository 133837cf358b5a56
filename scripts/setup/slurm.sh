#!/usr/bin/env bash
# Debian 12's Slurm (controller, node daemon, client) and munge, for the one-node cluster the
# --slurm tests start with scripts/slurm-cluster.sh. Idempotent: does nothing when they are there.
set -euo pipefail
PACKAGES=(slurmctld slurmd slurm-client munge)
need=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "slurm: ${PACKAGES[*]} already installed"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "slurm: installing ${need[*]} needs root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
# A policy-rc.d that says no keeps the packages from starting their daemons: the tests start their own.
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
fi
trap '[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
install() { apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
install || { apt-get update -qq && install; }
echo "slurm: installed ${need[*]}"
