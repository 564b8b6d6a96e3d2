# Helpers of scripts/arm64/run.sh: step markers and timings, the chroot's mounts. Sourced, not run.
# A step is done when its marker exists; running a step removes the markers of every step after it,
# because their results were made from what this step replaces.

say() { printf '[arm64 %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'arm64/run.sh: %s\n' "$*" >&2; exit 1; }

marker() { printf '%s/markers/%s.done' "$STATE" "$1"; }
# Steps a dry run would forget: it removes no marker, so it remembers here what a real run would remove.
FORGOTTEN=" "
step_done() { [[ "$FORGOTTEN" != *" $1 "* ]] && [ -f "$(marker "$1")" ]; }

# Forget STEP and every step after it (the order is STEPS in run.sh).
invalidate_from() {
  local seen=0 s
  for s in "${STEPS[@]}"; do
    [ "$s" = "$1" ] && seen=1
    ((seen)) || continue
    if ((DRY_RUN)); then FORGOTTEN+="$s "; else rm -f "$(marker "$s")"; fi
  done
  return 0
}

# results.json from the markers: one object per step with its seconds and when it finished.
write_results() {
  local s f first=1
  {
    printf '{\n  "root": "%s",\n  "commit": "%s",\n  "updated": "%s",\n  "steps": [\n' \
      "$ROOT" "$COMMIT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    for s in "${STEPS[@]}"; do
      f="$(marker "$s")"
      ((first)) || printf ',\n'
      first=0
      if [ "$s" = binfmt ]; then
        printf '    {"step": "binfmt", "status": "checked on every run"}'
      elif [ -f "$f" ]; then
        # shellcheck disable=SC1090
        (. "$f" && printf '    {"step": "%s", "status": "done", "seconds": %s, "finished": "%s", "commit": "%s"}' \
          "$s" "$seconds" "$finished" "$commit")
      else
        printf '    {"step": "%s", "status": "pending"}' "$s"
      fi
    done
    printf '\n  ]\n}\n'
  } >"$STATE/results.json.tmp"
  mv "$STATE/results.json.tmp" "$STATE/results.json"
}

# Runs step_NAME unless its marker says it is done; records the seconds it took.
run_step() {
  local s="$1" t0
  if step_done "$s"; then
    say "$s: done before ($(sed -n 's/^finished=//p' "$(marker "$s")")) — skipped"
    return 0
  fi
  if ((DRY_RUN)); then
    say "$s: would run — $(describe_"$s")"
    invalidate_from "$s"
    return 0
  fi
  say "$s: $(describe_"$s")"
  invalidate_from "$s"
  t0=$(date +%s)
  CURRENT_STEP="$s" CURRENT_T0="$t0"
  "step_$s"
  CURRENT_STEP=""
  printf 'seconds=%s\nfinished=%s\ncommit=%s\n' "$(($(date +%s) - t0))" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$COMMIT" \
    >"$(marker "$s")"
  say "$s: finished in $(($(date +%s) - t0)) s"
  write_results
}

# --- the chroot's mounts ---------------------------------------------------------------------------
MOUNTED=()
mounted_at() { findmnt -rn -o TARGET | grep -qxF "$1"; }
mount_into_root() {
  ((${#MOUNTED[@]})) && return 0
  local d
  for d in proc sys dev mnt/models; do mkdir -p "$ROOT/$d"; done
  mounted_at "$ROOT/proc" || { mount -t proc proc "$ROOT/proc" && MOUNTED+=("$ROOT/proc"); }
  # onnxruntime's cpuinfo reads /sys; apt and npm need /dev/null, /dev/urandom, /dev/pts.
  mounted_at "$ROOT/sys" || { mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys" && MOUNTED+=("$ROOT/sys"); }
  mounted_at "$ROOT/dev" || { mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev" && MOUNTED+=("$ROOT/dev"); }
  if [ -n "${PERCEPT_MODEL_MIRROR:-}" ] && ! mounted_at "$ROOT/mnt/models"; then
    mount --bind "$PERCEPT_MODEL_MIRROR" "$ROOT/mnt/models" && mount -o remount,bind,ro "$ROOT/mnt/models" &&
      MOUNTED+=("$ROOT/mnt/models")
  fi
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
  share_host_trust
}
# This machine may reach the registries through a TLS-inspecting proxy whose CA only the host trusts
# (/usr/local/share/ca-certificates; npm here failed with SELF_SIGNED_CERT_IN_CHAIN without it): the root
# trusts the same, as a device on such a network would be set up to. Node reads no system store, so its
# extra CAs are named too (NODE_EXTRA_CA_CERTS, passed by in_root).
HOST_CAS=/usr/local/share/ca-certificates
EXTRA_CA_ENV=()
share_host_trust() {
  compgen -G "$HOST_CAS/*.crt" >/dev/null || return 0
  [ -x "$ROOT/usr/sbin/update-ca-certificates" ] || return 0 # before root-packages: apt uses plain http
  if ! diff -rq "$HOST_CAS" "$ROOT$HOST_CAS" >/dev/null 2>&1; then
    mkdir -p "$ROOT$HOST_CAS"
    cp "$HOST_CAS"/*.crt "$ROOT$HOST_CAS/"
    chroot "$ROOT" update-ca-certificates >/dev/null
    say "the root trusts this machine's CAs: $(cd "$HOST_CAS" && echo *.crt)"
  fi
  EXTRA_CA_ENV=(NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
}
CURRENT_STEP=""
# On exit (EXIT trap): a step that did not finish says so, with its time, and the mounts go.
on_exit() {
  local rc=$?
  [ -z "$CURRENT_STEP" ] || say "$CURRENT_STEP: FAILED after $(($(date +%s) - CURRENT_T0)) s (exit $rc); run the script again to retry it"
  unmount_root
}
unmount_root() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount -R "${MOUNTED[i]}" 2>/dev/null || umount -R -l "${MOUNTED[i]}" || say "could not unmount ${MOUNTED[i]}"
  done
  MOUNTED=()
}

# A command inside the root, with a device's clean environment (no host PATH or npm settings).
in_root() {
  mount_into_root
  chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PERCEPT_MODEL_MIRROR=/mnt/models "${EXTRA_CA_ENV[@]}" "$@"
}
