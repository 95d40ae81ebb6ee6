#!/bin/sh
# The Firestore emulator with its data on disk: compose's `firestore` service runs this (the
# file is mounted into the emulator image), and the tests run the same file natively.
#
# The emulator holds everything in memory. Its own --export-on-exit does not save anything
# (this version fails with 'Database name "projects/P/databases/" has invalid trailing "/"',
# and under gcloud a SIGTERM never reaches the Java process), so this script does the saving:
#   - at start: imports the newest complete export under $FIRESTORE_DATA_DIR/exports;
#   - on SIGTERM/SIGINT (`docker compose stop`/`down`): exports, then stops the emulator;
#   - every $FIRESTORE_CHECKPOINT_S seconds: exports (a crash loses at most that much of what
#     the board wrote; the worker's journal keeps calls' orders, bookings and messages until
#     an export holds them, store/checkpoint.py) and keeps the newest $FIRESTORE_KEEP_EXPORTS.
# Each export is its own folder (exports/firestore_export_<time>/); a folder without its
# .overall_export_metadata (cut short) is never imported.
set -eu
data="${FIRESTORE_DATA_DIR:-/data}"
exports="$data/exports"
host_port="${FIRESTORE_HOST_PORT:-0.0.0.0:8080}"
project="${CLOUDSDK_CORE_PROJECT:-${GOOGLE_CLOUD_PROJECT:-demo-restaurant}}"
every="${FIRESTORE_CHECKPOINT_S:-60}"
keep="${FIRESTORE_KEEP_EXPORTS:-3}"
api="http://127.0.0.1:${host_port##*:}"
mkdir -p "$exports"

say() { echo "[firestore-data] $*"; }

newest() {  # the newest complete export's metadata file, or nothing
  ls -1 "$exports"/*/*.overall_export_metadata 2>/dev/null | sort | tail -n 1
}

export_now() {
  curl -fsS -m 60 -X POST -H 'content-type: application/json' \
    -d "{\"database\":\"projects/$project/databases/(default)\",\"export_directory\":\"$exports\"}" \
    "$api/emulator/v1/projects/$project:export" >/dev/null
}

prune() {  # keep the newest $keep complete exports; drop older ones and any cut short
  complete=$(ls -1 "$exports"/*/*.overall_export_metadata 2>/dev/null | sort | tail -n "$keep" \
    | xargs -r -n 1 dirname)
  for dir in "$exports"/*/; do
    dir="${dir%/}"
    [ -d "$dir" ] || continue
    case " $(echo $complete) " in *" $dir "*) continue ;; esac
    # a folder newer than the newest complete export may be an export being written now
    [ -n "$complete" ] && [ "$dir" \> "$(echo "$complete" | tail -n 1)" ] && continue
    rm -rf "$dir"
  done
}

stop() {
  trap '' TERM INT
  if export_now; then say "exported to $(dirname "$(newest)")"; else say "export on stop FAILED"; fi
  kill -TERM -"$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  exit 0
}

meta=$(newest)
if [ -n "$meta" ]; then say "importing $meta"; else say "no export yet: starting empty"; fi
# the emulator (gcloud, its shell and Java) in a process group of its own, stopped together
setsid gcloud emulators firestore start --host-port="$host_port" ${meta:+--import-data="$meta"} &
child=$!
trap stop TERM INT
while kill -0 "$child" 2>/dev/null; do
  sleep "$every" &
  wait $! || true
  if export_now 2>/dev/null; then prune; fi
done
wait "$child" || status=$?
say "the emulator exited (status ${status:-0})"
exit "${status:-1}"
