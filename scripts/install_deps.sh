#!/usr/bin/env bash
# Install what the telephony stack and its tests need on a Debian machine, idempotently:
#   - apt: redis-server, sipp (sip-tester), espeak-ng, sox, chromium (the board's browser
#     tests), and the opus/soxr headers
#     LiveKit SIP links against;
#   - LiveKit server and LiveKit SIP, built from the Go module proxy into
#     ${PHONELINE_BIN_DIR:-~/.cache/phoneline/bin}, one file per version
#     (livekit-server-vX, livekit-sip-vY) plus the links `livekit-server`, `server` and
#     `livekit-sip` to the pinned versions. A version already built is not built again.
#   - axe-core (npm, pinned) into ${PHONELINE_AXE_DIR:-~/.cache/phoneline/axe}: the board's
#     browser tests inject it to check every page for accessibility violations.
#   - FreeSWITCH 1.10.12 with sofia-sip and spandsp, built from ../shared/vendor (or upstream)
#     into ~/.cache/phoneline/freeswitch-1.10.12 by scripts/build_freeswitch.sh, once.
#
# Usage: scripts/install_deps.sh [--no-apt] [--no-go] [--no-freeswitch]
# Env:   LIVEKIT_SERVER_VERSION, LIVEKIT_SIP_VERSION override the pins below.
set -euo pipefail

# LiveKit SIP and LiveKit server talk over Redis (psrpc); keep the pair compatible: these two
# share psrpc v0.7.x. Bump them together.
LIVEKIT_SERVER_VERSION="${LIVEKIT_SERVER_VERSION:-v1.13.5}"
LIVEKIT_SIP_VERSION="${LIVEKIT_SIP_VERSION:-v1.8.0}"
BIN_DIR="${PHONELINE_BIN_DIR:-$HOME/.cache/phoneline/bin}"
APT_PACKAGES=(redis-server sip-tester espeak-ng sox libopus-dev libopusfile-dev libsoxr-dev
  pkg-config gcc
  chromium  # the staff board's browser tests (tests/board/)
  caddy  # the board's HTTPS, as compose serves it (tests/board/test_https.py)
  # FreeSWITCH's build and the libraries it runs with (scripts/build_freeswitch.sh)
  build-essential autoconf automake libtool libtool-bin libssl-dev zlib1g-dev libsqlite3-dev
  libcurl4-openssl-dev libpcre3-dev libpcre2-dev libspeex-dev libspeexdsp-dev libldns-dev
  libedit-dev libtiff-dev libjpeg-dev uuid-dev yasm git xz-utils
  # `make compose-test`: Docker (vfs, no registry needed) and the Debian base for its images
  docker.io mmdebstrap)

AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.10.3}"
AXE_DIR="${PHONELINE_AXE_DIR:-$HOME/.cache/phoneline/axe}"
do_apt=1
do_go=1
do_freeswitch=1
for arg in "$@"; do
  case "$arg" in
    --no-apt) do_apt=0 ;;
    --no-go) do_go=0 ;;
    --no-freeswitch) do_freeswitch=0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "[install_deps] $*"; }

if [[ $do_apt == 1 ]]; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    sudo_cmd=()
    [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
    log "apt-get install ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
  else
    log "apt packages present"
  fi
fi

# go_build MODULE VERSION PACKAGE OUTPUT: build PACKAGE of MODULE@VERSION inside the module
# (`go install pkg@version` refuses modules with replace directives, as livekit-server has).
go_build() {
  local module="$1" version="$2" package="$3" out="$4"
  if [[ -x "$out" ]]; then
    log "$(basename "$out") already built"
    return
  fi
  command -v go >/dev/null || { echo "go toolchain not found (needed to build $module)" >&2; exit 1; }
  log "building $module@$version ($package)"
  local dir
  # LiveKit tags are not all in the checksum database; the module's own go.sum still pins
  # every dependency.
  dir=$(GOFLAGS=-mod=mod GONOSUMDB="github.com/livekit/*" \
    go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -n "$dir" && -d "$dir" ]] || { echo "could not download $module@$version" >&2; exit 1; }
  (cd "$dir" && GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=1 \
    go build -o "$out.tmp" "$package")
  mv "$out.tmp" "$out"
}

if [[ $do_go == 1 ]]; then
  mkdir -p "$BIN_DIR"
  go_build github.com/livekit/livekit-server "$LIVEKIT_SERVER_VERSION" ./cmd/server \
    "$BIN_DIR/livekit-server-$LIVEKIT_SERVER_VERSION"
  go_build github.com/livekit/sip "$LIVEKIT_SIP_VERSION" ./cmd/livekit-sip \
    "$BIN_DIR/livekit-sip-$LIVEKIT_SIP_VERSION"
  ln -sfn "livekit-server-$LIVEKIT_SERVER_VERSION" "$BIN_DIR/livekit-server"
  ln -sfn "livekit-server-$LIVEKIT_SERVER_VERSION" "$BIN_DIR/server"
  ln -sfn "livekit-sip-$LIVEKIT_SIP_VERSION" "$BIN_DIR/livekit-sip"
  log "binaries in $BIN_DIR: livekit-server $LIVEKIT_SERVER_VERSION, livekit-sip $LIVEKIT_SIP_VERSION"
fi

# The accessibility checker of the board's browser tests (tests/board/test_layout.py).
if [[ -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]] \
    && grep -q "\"version\": \"$AXE_CORE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json"; then
  log "axe-core $AXE_CORE_VERSION present"
else
  # Debian's npm only where no Node.js brought one (a nodesource nodejs bundles its own npm and
  # conflicts with Debian's package).
  if ! command -v npm >/dev/null && [[ $do_apt == 1 ]]; then
    log "apt-get install npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm || true
  fi
  if command -v npm >/dev/null; then
    log "npm install axe-core@$AXE_CORE_VERSION into $AXE_DIR"
    mkdir -p "$AXE_DIR"
    npm install --silent --no-audit --no-fund --prefix "$AXE_DIR" "axe-core@$AXE_CORE_VERSION"
  else
    log "npm not found: the board's accessibility tests will fail until axe-core is installed"
  fi
fi

if [[ $do_freeswitch == 1 ]]; then
  bash "$(dirname "${BASH_SOURCE[0]}")/build_freeswitch.sh"
fi
