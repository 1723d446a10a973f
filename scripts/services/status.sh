#!/usr/bin/env bash
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
for entry in "${CZ_SERVICES[@]}"; do
  name=${entry%%:*}
  if cz_running "$name"; then printf '%-12s running (pid %s, port %s)\n' "$name" "$(cz_pid "$name")" "${entry##*:}"; else printf '%-12s stopped\n' "$name"; fi
done
