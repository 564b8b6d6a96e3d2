#!/usr/bin/env bash
# percept on a Debian 13 (trixie) arm64 userland, emulated on this x86 machine: the README's setup and
# demo inside it as on a device, then the same clip through x86 and arm64 with the events compared.
# Resumable: every step leaves a marker and is skipped once done (onnxruntime runs ~70× slower under
# qemu, the OpenCV addon build takes tens of minutes). Needs root (debootstrap, chroot, mounts).
#
#   scripts/arm64/run.sh [--dry-run] [--from STEP] [--until STEP]
#
#   --dry-run      print each step and whether it would run or be skipped; change nothing
#   --from STEP    forget STEP and every later step, then run from there
#   --until STEP   stop after STEP
#
#   PERCEPT_ARM64_ROOT    the arm64 root (default: .cache/arm64-root in this checkout)
#   PERCEPT_ARM64_STATE   markers, results.json, the clip and the events (default: <root>.state)
#   PERCEPT_ARM64_MIRROR  Debian mirror (default: the one this machine's apt uses)
#   PERCEPT_MODEL_MIRROR  models copied from here instead of downloaded (bound read-only into the root)
#   PERCEPT_ARM64_TOLERANCE  largest allowed probability difference arm64 vs x86 (default 0.02)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"
# shellcheck source=scripts/arm64/lib.sh
. "$HERE/lib.sh"

STEPS=(host-packages binfmt debootstrap root-packages checkout setup host-build clip run-x86 run-arm64 compare demo-arm64 deb-arm64)
DRY_RUN=0 FROM="" UNTIL=""
while (($#)); do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --from) FROM="${2:?--from needs a step: ${STEPS[*]}}"; shift ;;
    --until) UNTIL="${2:?--until needs a step: ${STEPS[*]}}"; shift ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
for s in "$FROM" "$UNTIL"; do
  [ -z "$s" ] || [[ " ${STEPS[*]} " == *" $s "* ]] || die "no step '$s': the steps are ${STEPS[*]}"
done

ROOT="${PERCEPT_ARM64_ROOT:-$REPO/.cache/arm64-root}"
ROOT="$(realpath -m "$ROOT")"
STATE="$(realpath -m "${PERCEPT_ARM64_STATE:-$ROOT.state}")"
TOLERANCE="${PERCEPT_ARM64_TOLERANCE:-0.02}"
COMMIT="$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
SUITE=trixie
APP=/opt/percept # the checkout inside the root
# The mirror this machine's apt uses (deb822 .sources or one-line sources.list), not the security one.
default_mirror() {
  local m
  m="$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -Eo '(URIs:|^deb) +https?://[^ ]+' | grep -Eo 'https?://[^ ]+' | grep -v -e security -e nodesource |
    grep '/debian/*$' | head -n1 || true)"
  echo "${m:-http://deb.debian.org/debian}"
}
MIRROR="${PERCEPT_ARM64_MIRROR:-$(default_mirror)}"
MIRROR="${MIRROR%/}"

if ((!DRY_RUN)); then
  [ "$(id -u)" -eq 0 ] || die "run it as root (debootstrap, chroot and mounts need it), or with --dry-run"
  [ -d "$REPO/.git" ] || [ -f "$REPO/.git" ] || die "$REPO is not a git checkout (the root gets 'git archive HEAD')"
  mkdir -p "$STATE/markers"
  trap on_exit EXIT
  trap 'exit 130' INT TERM
fi
say "root $ROOT, state $STATE, mirror $MIRROR, commit ${COMMIT:0:12}$( ((DRY_RUN)) && echo ', dry run')"
[ -z "$FROM" ] || { say "--from $FROM: forgetting $FROM and the steps after it"; invalidate_from "$FROM"; }
# A root that is gone takes its markers with it (they would otherwise skip steps whose results are lost).
if [ -d "$STATE/markers" ] && step_done debootstrap && [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  say "$ROOT has no userland: its markers are stale"
  invalidate_from debootstrap
fi

# The root runs what HEAD was when it was copied in: a HEAD that changed what runs there since redoes
# the checkout and what follows (documentation, tests and this harness do not run there; an unknown
# commit counts as changed).
if step_done checkout; then
  copied="$(sed -n 's/^commit=//p' "$(marker checkout)")"
  if [ "$copied" != "$COMMIT" ] &&
    ! git -C "$REPO" diff --quiet "$copied" "$COMMIT" -- . ':!docs' ':!*.md' ':!test' ':!scripts/arm64' 2>/dev/null; then
    say "checkout: the root has ${copied:0:12}, HEAD is ${COMMIT:0:12}: redone"
    invalidate_from checkout
  fi
fi

# shellcheck source=scripts/arm64/steps.sh
. "$HERE/steps.sh"

for s in "${STEPS[@]}"; do
  if [ "$s" = binfmt ]; then
    # The kernel's registration does not survive a reboot, so it is checked on every run (cheap).
    ((DRY_RUN)) && say "binfmt: would check — $(describe_binfmt)" || step_binfmt
  else
    run_step "$s"
  fi
  [ "$s" = "$UNTIL" ] && break
done
((DRY_RUN)) || write_results
say "done$( ((DRY_RUN)) || echo ": $STATE/results.json")"
