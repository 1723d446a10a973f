#!/usr/bin/env bash
# Stops every Cunzheng service started by services/up.sh, by pid.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
for (( i=${#CZ_SERVICES[@]}-1; i>=0; i-- )); do
  cz_stop "${CZ_SERVICES[$i]%%:*}"
done
