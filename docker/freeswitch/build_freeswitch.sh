#!/usr/bin/env bash
# Build a minimal FreeSWITCH (and the sofia-sip and spandsp it needs) once, into a cached prefix:
#   ${PHONELINE_FREESWITCH_DIR:-~/.cache/phoneline/freeswitch-1.10.12}/bin/freeswitch
#
# No package registry carries FreeSWITCH 1.10 or a new-enough sofia-sip/spandsp, so they are
# built from the unmodified upstream sources: the vendored tarballs in ../shared/vendor (checked
# against their sha256) when present, else the same upstream revisions fetched with git.
# Only the modules freeswitch-config/autoload_configs/modules.conf.xml loads are built.
#
# The prefix holds a stamp naming what it was built from; a prefix whose stamp matches is not
# built again (the warm-cache path takes well under a second). A failed step stops with the
# step's name and the Debian packages it needs that are missing; its log tail is printed.
#
# Usage: scripts/build_freeswitch.sh [--recipe]   (--recipe: print what the stamp would say)
# Env: PHONELINE_VENDOR_DIR  directory holding the three tarballs (default: the first
#                            shared/vendor found walking up from the repository)
#      PHONELINE_FREESWITCH_DIR  install prefix
#      PHONELINE_BUILD_JOBS  make -j (default: number of cores)
set -euo pipefail

FS_VERSION=1.10.12
SOFIA_VERSION=1.13.17
SPANDSP_VERSION=3.0.0
# Vendored tarballs and their sha256 (../shared/vendor/README.md).
FS_TARBALL="freeswitch-$FS_VERSION.tar.xz"
FS_SHA256=f7ddc365ebe54da2b9c26e069537389e38f4ad3eb5cef977ed0c329904550c51
SOFIA_TARBALL="sofia-sip-$SOFIA_VERSION.tar.xz"
SOFIA_SHA256=7be73ef8728d3aeb692cc5cbc83489d93ff67b9c60ba1238f33275529c96b702
SPANDSP_TARBALL="spandsp-$SPANDSP_VERSION.tar.xz"
SPANDSP_SHA256=988cf63de333c3cb0c6a958e707994c28749035f6c895a9fe34e01b071943901
# The same sources upstream: repository and revision (tag or commit).
FS_GIT=https://github.com/signalwire/freeswitch.git
FS_REV=v$FS_VERSION
SOFIA_GIT=https://github.com/freeswitch/sofia-sip.git
SOFIA_REV=7333682a
SPANDSP_GIT=https://github.com/freeswitch/spandsp.git
SPANDSP_REV=0c7bcebe

# What the build needs from Debian (also installed by scripts/install_deps.sh); the runtime
# libraries FreeSWITCH links against come with these.
FS_BUILD_PACKAGES=(build-essential autoconf automake libtool libtool-bin pkg-config libssl-dev
  zlib1g-dev libsqlite3-dev libcurl4-openssl-dev libpcre3-dev libpcre2-dev libspeex-dev
  libspeexdsp-dev libldns-dev libedit-dev libtiff-dev libjpeg-dev uuid-dev yasm git xz-utils)

# Exactly the modules freeswitch-config loads (its modules.conf.xml); a test checks the two agree.
FS_MODULES=(
  loggers/mod_console
  loggers/mod_logfile
  event_handlers/mod_event_socket
  endpoints/mod_sofia
  applications/mod_commands
  applications/mod_dptools
  dialplans/mod_dialplan_xml
  formats/mod_tone_stream
)
FS_CONFIGURE_FLAGS=(--disable-libvpx --disable-libyuv --without-python --without-erlang
  --disable-debug --disable-dependency-tracking)

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="${PHONELINE_FREESWITCH_DIR:-$HOME/.cache/phoneline/freeswitch-$FS_VERSION}"
JOBS="${PHONELINE_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
STAMP="$PREFIX/.phoneline-build"

log() { echo "[build_freeswitch] $*"; }

# What this prefix is built from; any change (version, checksum, module, flag) rebuilds.
recipe() {
  printf '%s\n' "freeswitch $FS_VERSION $FS_SHA256" "sofia-sip $SOFIA_VERSION $SOFIA_SHA256" \
    "spandsp $SPANDSP_VERSION $SPANDSP_SHA256" "modules ${FS_MODULES[*]}" \
    "configure ${FS_CONFIGURE_FLAGS[*]}"
}

if [[ "${1:-}" == --recipe ]]; then  # what the stamp of a build from this script says
  recipe
  exit 0
fi

if [[ -x "$PREFIX/bin/freeswitch" && -f "$STAMP" && "$(cat "$STAMP")" == "$(recipe)" ]]; then
  log "FreeSWITCH $FS_VERSION already built in $PREFIX"
  exit 0
fi

missing_packages() {
  local pkg out=()
  for pkg in "${FS_BUILD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || out+=("$pkg")
  done
  echo "${out[*]}"
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/phoneline-fs-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
STEP_LOG="$WORK/step.log"

# step NAME CMD...: run CMD with its output in a log; on failure name the step, the missing
# Debian packages and the end of the log, and stop.
step() {
  local name="$1"
  shift
  log "$name"
  if ! "$@" >"$STEP_LOG" 2>&1; then
    echo "[build_freeswitch] FAILED: $name" >&2
    tail -n 40 "$STEP_LOG" >&2
    local missing
    missing="$(missing_packages)"
    if [[ -n "$missing" ]]; then
      echo "[build_freeswitch] missing Debian packages: $missing (apt-get install $missing)" >&2
    fi
    rm -rf "$PREFIX"
    exit 1
  fi
}

find_vendor_dir() {
  if [[ -n "${PHONELINE_VENDOR_DIR:-}" ]]; then
    echo "$PHONELINE_VENDOR_DIR"
    return
  fi
  local dir="$REPO_DIR"
  while [[ "$dir" != / ]]; do
    dir="$(dirname "$dir")"
    if [[ -f "$dir/shared/vendor/$FS_TARBALL" ]]; then
      echo "$dir/shared/vendor"
      return
    fi
  done
}

# unpack NAME TARBALL SHA256 GIT REV: NAME's source tree in $WORK/NAME, from the vendored
# tarball (checksum verified) or from upstream git.
unpack() {
  local name="$1" tarball="$2" sha="$3" git_url="$4" rev="$5" vendor
  vendor="$(find_vendor_dir)"
  if [[ -n "$vendor" && -f "$vendor/$tarball" ]]; then
    log "$name: $vendor/$tarball"
    echo "$sha  $vendor/$tarball" | sha256sum --check --quiet - \
      || { echo "[build_freeswitch] $vendor/$tarball: sha256 is not $sha" >&2; exit 1; }
    mkdir -p "$WORK/$name"
    step "unpack $tarball" tar -xJf "$vendor/$tarball" -C "$WORK/$name" --strip-components=1
  else
    log "$name: no vendored $tarball; fetching $git_url at $rev"
    step "fetch $name from $git_url" git clone --quiet "$git_url" "$WORK/$name"
    step "check out $name $rev" git -C "$WORK/$name" checkout --quiet "$rev"
  fi
}

# autotools NAME [CONFIGURE FLAGS...]: bootstrap, configure, build and install NAME into PREFIX.
autotools() {
  local name="$1"
  shift
  cd "$WORK/$name"
  step "$name: bootstrap" ./bootstrap.sh
  step "$name: configure" env PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" \
    LDFLAGS="-Wl,-rpath,$PREFIX/lib" ./configure --prefix="$PREFIX" "$@"
  step "$name: make" make -j"$JOBS"
  step "$name: make install" make install
  cd "$WORK"
}

start=$SECONDS
missing="$(missing_packages)"
if [[ -n "$missing" ]]; then
  echo "[build_freeswitch] cannot build FreeSWITCH: missing Debian packages: $missing" >&2
  echo "[build_freeswitch] (scripts/install_deps.sh installs them; or apt-get install $missing)" >&2
  exit 1
fi
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
log "building FreeSWITCH $FS_VERSION into $PREFIX (make -j$JOBS)"

unpack sofia-sip "$SOFIA_TARBALL" "$SOFIA_SHA256" "$SOFIA_GIT" "$SOFIA_REV"
autotools sofia-sip
unpack spandsp "$SPANDSP_TARBALL" "$SPANDSP_SHA256" "$SPANDSP_GIT" "$SPANDSP_REV"
autotools spandsp
unpack freeswitch "$FS_TARBALL" "$FS_SHA256" "$FS_GIT" "$FS_REV"
printf '%s\n' "${FS_MODULES[@]}" >"$WORK/freeswitch/modules.conf"
autotools freeswitch "${FS_CONFIGURE_FLAGS[@]}"

# The stock configuration and the sound/db dirs are not used: tests and `make dev` run with
# -conf freeswitch-config and their own -log/-db/-run directories.
rm -rf "$PREFIX/etc/freeswitch" "$PREFIX/share/freeswitch/sounds"
step "check the binary runs" "$PREFIX/bin/freeswitch" -version
recipe >"$STAMP"
log "FreeSWITCH $FS_VERSION built in $((SECONDS - start)) s ($(du -sh "$PREFIX" | cut -f1))"
