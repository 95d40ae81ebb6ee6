#!/usr/bin/env bash
# The recipe lives beside the FreeSWITCH image's Dockerfile (docker/freeswitch/), so the image
# and the native build (tests, `make dev`) run the same script; this is its old address.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../docker/freeswitch/build_freeswitch.sh" "$@"
