#!/bin/sh
# Entrypoint of the CodeMaestro image: one image, seven services.
#
#   maestro-entrypoint [serve]                  run $MAESTRO_SERVICE   (node services/<s>/dist/main.js)
#   maestro-entrypoint migrate [service ...]    run each service's migrations in order
#                                               (node services/<s>/dist/migrate.js), then exit;
#                                               without names, migrates $MAESTRO_SERVICE
#   maestro-entrypoint <any other command>      exec it (debugging: sh, node -e, ...)
#
# `exec` hands the process to node so SIGTERM from Docker/Kubernetes reaches runService's
# graceful shutdown (tini, PID 1, forwards it).
set -eu

SERVICES="gateway orchestrator workflow-engine router lock-manager memory executor"
APP_DIR="${MAESTRO_APP_DIR:-/app}"

known_service() {
  for known in $SERVICES; do
    [ "$known" = "$1" ] && return 0
  done
  return 1
}

require_service() {
  if ! known_service "$1"; then
    echo "maestro-entrypoint: unknown service \"$1\" (expected one of: $SERVICES)" >&2
    exit 64
  fi
}

mode="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$mode" in
  serve)
    service="${MAESTRO_SERVICE:-}"
    if [ -z "$service" ]; then
      echo "maestro-entrypoint: MAESTRO_SERVICE is not set (expected one of: $SERVICES)" >&2
      exit 64
    fi
    require_service "$service"
    exec node "$APP_DIR/services/$service/dist/main.js" "$@"
    ;;
  migrate)
    if [ "$#" -eq 0 ]; then
      if [ -z "${MAESTRO_SERVICE:-}" ]; then
        echo "maestro-entrypoint: migrate needs service names or MAESTRO_SERVICE" >&2
        exit 64
      fi
      set -- "$MAESTRO_SERVICE"
    fi
    for service in "$@"; do
      require_service "$service"
      script="$APP_DIR/services/$service/dist/migrate.js"
      if [ ! -f "$script" ]; then
        echo "maestro-entrypoint: $service has no migrations ($script not found)" >&2
        exit 66
      fi
      echo "maestro-entrypoint: migrating $service" >&2
      node "$script"
    done
    ;;
  *)
    exec "$mode" "$@"
    ;;
esac
