#!/usr/bin/env bash
# Installs everything percept needs, idempotently, and is quick when all is done:
# Debian packages → npm packages (+ the native OpenCV addon) → TypeScript build → converted + fetched models →
# demo clip.
#
#   scripts/setup.sh --for demo   what `npm run demo` (and bench, soak) need: OpenCV, the demo clip's photos
#   scripts/setup.sh --for test   adds what only the tests need (`npm test`, `npm run setup`): a broker,
#                                 GStreamer plugins, chromium, a container toolkit, Python for PE-Core, dpkg-dev
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '[setup] %s\n' "$*" >&2; }
t0=$(date +%s)
purpose=test
while (($#)); do
  case "$1" in
    --for) purpose="${2:?--for needs demo or test}"; shift ;;
    *) step "unknown option $1 (use --for demo|test)"; exit 64 ;;
  esac
  shift
done
case "$purpose" in demo | test) ;; *) step "--for $purpose: use demo or test"; exit 64 ;; esac

# --- Debian packages ------------------------------------------------------------------------------
# Which distribution: the package names below are Debian 12/13's; Ubuntu 22.04 (JetPack 6 on a Jetson)
# has the same names for everything --for demo needs. Ubuntu is untested: no Ubuntu archive is reachable
# from the machines this was written on (Debian 12 x86 and Debian 13 arm64 under qemu were run).
os_id=unknown os_version=""
if [ -r /etc/os-release ]; then os_id="$(. /etc/os-release && echo "${ID:-unknown}")" os_version="$(. /etc/os-release && echo "${VERSION_ID:-}")"; fi
case "$os_id $os_version" in
  "debian 12" | "debian 13" | "ubuntu 22.04") ;;
  *) step "$os_id $os_version is not one setup was written for (Debian 12/13, Ubuntu 22.04): trying Debian's package names" ;;
esac
# Node >= 20 first: Ubuntu 22.04's own nodejs is 12 and Debian 12's is 18 (NodeSource's node_20.x has 20).
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
((node_major >= 20)) || { step "Node >= 20 is needed, found $(node --version 2>/dev/null || echo none): install Node 20 (Debian 13: apt-get install nodejs npm; Debian 12, Ubuntu 22.04: NodeSource's node_20.x)"; exit 1; }

APT_PACKAGES=(
  libopencv-dev opencv-data   # OpenCV for the native addon (capture, resize)
  facedetect opencv-doc       # real photos the demo clip and tests are made from (never committed)
  g++ make python3 pkg-config # node-gyp builds the native addons (OpenCV, unix-dgram) with these
)
# Debian's own nodejs (Debian 13) keeps node's C headers in libnode-dev; node-gyp would otherwise
# download them from nodejs.org, which a build machine may not reach. NodeSource's nodejs has them.
if [ ! -f /usr/include/node/node_api.h ] && ! dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -q nodesource; then
  APT_PACKAGES+=(libnode-dev)
fi
if [ "$purpose" = test ]; then
  APT_PACKAGES+=(
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav  # gst: sources
    mosquitto                   # a real broker for the integration tests
    python3-venv                # the PE-Core export tool's virtualenv (models/pe-core)
    debootstrap systemd-container  # the unit and the Debian package under a real systemd (test/system)
    dpkg-dev                    # dpkg-shlibdeps: npm run package (the system tests build the .deb)
  )
  # headless screenshots of the local preview page (integration test). Ubuntu ships chromium as a snap
  # only (its chromium-browser .deb installs the snap): there, install it yourself for that one test.
  [ "$os_id" = ubuntu ] || APT_PACKAGES+=(chromium)
fi
# JetPack (Ubuntu arm64 on a Jetson) ships its own OpenCV (nvidia-opencv: GStreamer, CUDA). Installing
# apt's libopencv-dev next to it would replace or shadow it, so on a Jetson with JetPack's OpenCV present
# the addon is built against that one instead (opencv4nodejs reads OPENCV_{INCLUDE,LIB,BIN}_DIR).
if [ -f /etc/nv_tegra_release ] && pkg-config --exists opencv4 2>/dev/null; then
  kept=()
  for p in "${APT_PACKAGES[@]}"; do [ "$p" = libopencv-dev ] || kept+=("$p"); done
  APT_PACKAGES=("${kept[@]}")
  OPENCV_INCLUDE_DIR="$(pkg-config --cflags-only-I opencv4 | sed 's/^ *-I//; s/ .*//')"
  OPENCV_LIB_DIR="$(pkg-config --variable=libdir opencv4)"
  export OPENCV_INCLUDE_DIR OPENCV_LIB_DIR OPENCV_BIN_DIR=/usr/bin
  step "JetPack: using its OpenCV $(pkg-config --modversion opencv4) from $OPENCV_LIB_DIR"
fi
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { step "missing Debian packages: ${missing[*]} — install them as root (apt-get install ${missing[*]})"; exit 1; }
    SUDO=sudo
  fi
  step "installing Debian packages: ${missing[*]} (a few minutes the first time)…"
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
else
  step "Debian packages: present"
fi

# The OpenCV modules percept calls (core, imgproc: resize and colour; imgcodecs: imread, imencode;
# videoio: VideoCapture/VideoWriter; calib3d: solvePnP for head pose). Debian's and Ubuntu's
# libopencv-dev have all of them; a trimmed build (some JetPack images, a custom one) may not.
cv_libdir="${OPENCV_LIB_DIR:-$(pkg-config --variable=libdir opencv4 2>/dev/null || true)}"
if [ -n "$cv_libdir" ]; then
  absent=()
  for m in core imgproc imgcodecs videoio calib3d; do compgen -G "$cv_libdir/libopencv_$m.so*" >/dev/null || absent+=("$m"); done
  ((${#absent[@]} == 0)) || { step "OpenCV in $cv_libdir lacks the modules ${absent[*]} that percept needs: install an OpenCV with them (Debian/Ubuntu: libopencv-dev)"; exit 1; }
fi
# node-gyp reads node's headers from here instead of downloading them (see libnode-dev above).
[ ! -f /usr/include/node/node_api.h ] || export npm_config_nodedir=/usr

# --- npm packages ---------------------------------------------------------------------------------
# onnxruntime-node's install script downloads CUDA binaries (not reachable here; the CPU ones ship in the
# package); the OpenCV addon must build against Debian's OpenCV rather than compile its own.
export ONNXRUNTIME_NODE_INSTALL=skip OPENCV4NODEJS_DISABLE_AUTOBUILD=1 JOBS=max
ADDON=node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -f "$ADDON" ]; then
  step "installing npm packages and building the OpenCV addon (about 3 minutes on 2 cores)…"
  npm ci --no-audit --no-fund --loglevel=error >&2
  [ -f "$ADDON" ] || npm rebuild @u4/opencv4nodejs >&2
  [ -f "$ADDON" ] || { step "the OpenCV addon did not build (see the npm output above)"; exit 1; }
else
  step "npm packages: present"
fi

# --- build ----------------------------------------------------------------------------------------
step "compiling TypeScript…"
npx tsc -p tsconfig.json

# --- models ---------------------------------------------------------------------------------------
node dist/models/face-api/convert.js >&2
# YuNet, the preferred detector, from the model catalog (models/catalog.json): copied from
# $PERCEPT_MODEL_MIRROR when set, else downloaded at its pinned commit; sha256 checked before install.
# Without either it prints one line and the agent runs on the converted SSD.
node dist/agent/cli/models-fetch.js yunet-n >&2

# --- demo clip ------------------------------------------------------------------------------------
node --input-type=module -e "const m = await import('./dist/agent/cli/demo.js'); await m.ensureDemoClip();" >&2

step "ready in $(( $(date +%s) - t0 )) s"
