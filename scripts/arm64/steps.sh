# The steps of scripts/arm64/run.sh, in its STEPS order: describe_NAME says what step_NAME does (the
# dry run prints it). Sourced, not run.

HOST_PACKAGES=(qemu-user-static binfmt-support debootstrap)
describe_host-packages() { echo "apt-get install ${HOST_PACKAGES[*]} (on this machine, where missing)"; }
step_host-packages() {
  local p missing=()
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

BINFMT=/proc/sys/fs/binfmt_misc
describe_binfmt() { echo "mount binfmt_misc on $BINFMT if it is not, enable qemu-aarch64"; }
step_binfmt() {
  [ -f "$BINFMT/status" ] || mount -t binfmt_misc binfmt_misc "$BINFMT"
  [ -f "$BINFMT/qemu-aarch64" ] || update-binfmts --enable qemu-aarch64
  grep -q '^enabled' "$BINFMT/qemu-aarch64" || die "qemu-aarch64 is registered but disabled ($BINFMT/qemu-aarch64)"
  say "binfmt: qemu-aarch64 enabled"
}

describe_debootstrap() { echo "debootstrap --arch=arm64 --variant=minbase $SUITE $ROOT $MIRROR (~15 min under emulation)"; }
step_debootstrap() {
  if findmnt -rn -o TARGET | grep -q "^$ROOT/"; then die "something is mounted under $ROOT: unmount it before it is rebuilt"; fi
  rm -rf --one-file-system "$ROOT"
  mkdir -p "$(dirname "$ROOT")"
  debootstrap --arch=arm64 --variant=minbase "$SUITE" "$ROOT" "$MIRROR"
  cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $MIRROR-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -f "$ROOT/etc/apt/sources.list"
  # A throwaway root: dpkg need not fsync every file it unpacks (hundreds of packages follow).
  echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/unsafe-io"
  [ "$(chroot "$ROOT" dpkg --print-architecture)" = arm64 ] || die "the root's dpkg is not arm64"
}

# What a device has before the README's setup: Debian's Node 20 and npm (and certificates for npm).
ROOT_PACKAGES=(nodejs npm ca-certificates)
describe_root-packages() { echo "apt-get install ${ROOT_PACKAGES[*]} inside the root"; }
step_root-packages() {
  in_root apt-get update -q
  in_root apt-get install -y -q --no-install-recommends "${ROOT_PACKAGES[@]}"
  in_root node -p '`node ${process.version} ${process.arch}`'
}

describe_checkout() { echo "git archive HEAD ($(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null)) into $ROOT$APP (node_modules and .cache kept)"; }
step_checkout() {
  local dir="$ROOT$APP" lock_sum="" lock_mtime=""
  mkdir -p "$dir"
  if [ -f "$dir/package-lock.json" ]; then
    lock_sum="$(sha256sum <"$dir/package-lock.json")"
    lock_mtime="$(stat -c %Y "$dir/package-lock.json")"
  fi
  # Clean: everything but the npm packages (their native builds take the longest under emulation) and
  # .cache goes; then HEAD as committed.
  COMMIT="$(git -C "$REPO" rev-parse HEAD)"
  find "$dir" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name .cache -exec rm -rf --one-file-system {} +
  git -C "$REPO" archive --format=tar "$COMMIT" | tar -x -C "$dir"
  # setup.sh reinstalls the npm packages when package-lock.json is newer than their install: keep its
  # time when its content did not change.
  if [ -n "$lock_sum" ] && [ "$lock_sum" = "$(sha256sum <"$dir/package-lock.json")" ]; then
    touch -d "@$lock_mtime" "$dir/package-lock.json"
  fi
}

describe_setup() { echo "bash scripts/setup.sh --for demo inside the root (PERCEPT_MODEL_MIRROR=/mnt/models, bound read-only from ${PERCEPT_MODEL_MIRROR:-nowhere: downloads})"; }
step_setup() {
  in_root bash -c "cd $APP && bash scripts/setup.sh --for demo"
  in_root bash -c "cd $APP && file -L node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node" || true
}

# The x86 side of the comparison runs from this checkout; `npx tsc` and the model commands only (never
# setup.sh here: its npm ci would replace node_modules, which may be shared).
describe_host-build() { echo "npx tsc, face-api conversion and YuNet fetch in $REPO (x86)"; }
step_host-build() {
  [ -f node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node ] ||
    die "$REPO has no built npm packages: run 'bash scripts/setup.sh --for demo' there first"
  npx tsc -p tsconfig.json
  node dist/models/face-api/convert.js
  node dist/agent/cli/models-fetch.js yunet-n
}

describe_clip() { echo "make the demo clip on x86 into $STATE/clip.avi (both architectures read these bytes)"; }
step_clip() {
  node --input-type=module -e "
    const { loadOpenCV } = await import('$REPO/dist/agent/capture/opencv.js');
    const { makeClip } = await import('$REPO/dist/agent/capture/demo-clip.js');
    const r = makeClip(await loadOpenCV(), '$STATE/clip.avi');
    console.error('clip: ' + r.frames + ' frames');"
  mkdir -p "$ROOT/opt/clip" && cp "$STATE/clip.avi" "$ROOT/opt/clip/clip.avi"
}

# Both runs: the same clip, every frame read (--exit-on-eof), any free port for the embedded broker.
RUN_ARGS="run --source CLIP --exit-on-eof --print-events --device-id arm64-check --state-dir STATEDIR"
run_args() { local a="${RUN_ARGS/CLIP/$1}"; echo "${a/STATEDIR/$2}"; }
describe_run-x86() { echo "percept $(run_args "$STATE/clip.avi" "$STATE/x86-state") > $STATE/events-x86.jsonl"; }
step_run-x86() {
  rm -rf "$STATE/x86-state"
  # shellcheck disable=SC2046
  PERCEPT_MQTT_EMBEDDED_PORT=0 node bin/percept.js $(run_args "$STATE/clip.avi" "$STATE/x86-state") >"$STATE/events-x86.jsonl"
  say "run-x86: $(wc -l <"$STATE/events-x86.jsonl") events"
}
describe_run-arm64() { echo "percept $(run_args /opt/clip/clip.avi /opt/clip/state) inside the root > $STATE/events-arm64.jsonl (minutes: emulated)"; }
# Under emulation every native step runs ~70× slower: the capture process alone takes longer than the
# default 15 s to load OpenCV and open the clip (the first run failed there). An installer of a slow
# device raises the same limits in the config file percept reads by default, so the root gets one (both
# `percept run` without -c and `percept demo` read it); the x86 run keeps the defaults (timeouts do not
# change which frames an --exit-on-eof run reads, so the comparison is unaffected).
write_slow_device_config() {
  mkdir -p "$ROOT/etc/percept"
  cat >"$ROOT/etc/percept/percept.yaml" <<'YAML'
# Written by scripts/arm64/run.sh: limits for an emulated (very slow) arm64 device.
source:
  openTimeoutMs: 300000
  readTimeoutMs: 120000
inference:
  timeoutMs: 600000
YAML
}

step_run-arm64() {
  rm -rf "$ROOT/opt/clip/state"
  write_slow_device_config
  in_root env PERCEPT_MQTT_EMBEDDED_PORT=0 bash -c "cd $APP && node bin/percept.js $(run_args /opt/clip/clip.avi /opt/clip/state)" \
    >"$STATE/events-arm64.jsonl"
  say "run-arm64: $(wc -l <"$STATE/events-arm64.jsonl") events"
}

describe_compare() { echo "compare $STATE/events-{x86,arm64}.jsonl: same visits and exit sides, probabilities within $TOLERANCE"; }
step_compare() {
  node "$REPO/dist/scripts/arm64/compare-events.js" --tolerance "$TOLERANCE" \
    "$STATE/events-x86.jsonl" "$STATE/events-arm64.jsonl" | tee "$STATE/compare.txt"
}

describe_demo-arm64() { echo "node bin/percept.js demo inside the root (the README's demo, its own clip) > $STATE/demo-arm64.txt"; }
step_demo-arm64() {
  write_slow_device_config
  in_root bash -c "cd $APP && node bin/percept.js demo" >"$STATE/demo-arm64.txt"
  say "demo-arm64: $(grep -c '^──' "$STATE/demo-arm64.txt") events"
}

describe_deb-arm64() { echo "apt-get install dpkg-dev, then bash scripts/package-deb.sh --fast inside the root → $STATE/"; }
step_deb-arm64() {
  in_root apt-get install -y -q --no-install-recommends dpkg-dev
  in_root bash -c "cd $APP && bash scripts/package-deb.sh --fast --out /opt/clip"
  cp "$ROOT"/opt/clip/percept_*_arm64.deb "$STATE/"
  dpkg-deb --info "$STATE"/percept_*_arm64.deb | tee "$STATE/deb-info.txt"
}
