#!/usr/bin/env bash
# Installs, upgrades or removes percept as a systemd service.
#
#   systemd/install.sh                 install or upgrade (config in /etc/percept kept on upgrade)
#   systemd/install.sh --uninstall     stop, disable and remove (config kept; --purge removes it too)
#   --dry-run                          print what would be done, change nothing
#   --prefix DIR                       install below DIR instead of / (packaging, tests; no systemctl)
#   --app-dir DIR                      where the application goes (default /opt/percept)
#   --jetson                           add the Jetson camera drop-in (automatic with /etc/nv_tegra_release)
#
# Run it from a built checkout (npm run setup). The service runs as a dynamic user in the video group,
# with its state in /var/lib/percept (StateDirectory) and its config in /etc/percept.
set -euo pipefail
# Everything installed is root's and readable by all (the service runs as a dynamic user); the config's
# secrets belong in passwordFile/credentials, not in a world-readable YAML.
umask 022
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/.." && pwd)"
prefix="" dry=0 action=install purge=0 app_dir=/opt/percept jetson=0
while (($#)); do
  case "$1" in
    --dry-run) dry=1 ;;
    --uninstall) action=uninstall ;;
    --purge) purge=1 ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift ;;
    --app-dir) app_dir="${2:?--app-dir needs a directory}"; shift ;;
    --jetson) jetson=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
prefix="${prefix%/}"
app="$prefix$app_dir"
unit="$prefix/etc/systemd/system/percept.service"
dropins="$unit.d"
[ -f "$prefix/etc/nv_tegra_release" ] && jetson=1
etc="$prefix/etc/percept"
node_bin="$(command -v node || echo /usr/bin/node)"
use_systemctl=0
[ -z "$prefix" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ] && use_systemctl=1

run() {
  if ((dry)); then printf '[dry-run] %s\n' "$*"; else "$@"; fi
}
say() { printf '[install] %s\n' "$*"; }

if [ "$action" = uninstall ]; then
  ((use_systemctl)) && run systemctl disable --now percept.service || true
  run rm -f "$unit"
  run rm -f "$dropins/jetson-camera.conf"
  [ -d "$dropins" ] && run rmdir --ignore-fail-on-non-empty "$dropins"
  run rm -rf "$app"
  if ((purge)); then run rm -rf "$etc"; else say "config kept in $etc (--purge removes it)"; fi
  ((use_systemctl)) && run systemctl daemon-reload
  say "uninstalled"
  exit 0
fi

if [ ! -f "$src/dist/agent/cli/main.js" ] || [ ! -f "$src/models/face-api/ssd-mobilenetv1/model.json" ]; then
  echo "install.sh: $src is not built; run 'npm run setup' there first" >&2
  exit 1
fi
if [ -z "$prefix" ] && [ "$(id -u)" -ne 0 ] && ((!dry)); then
  echo "install.sh: installing into / needs root (or use --prefix DIR)" >&2
  exit 1
fi

upgrade=0
[ -d "$app" ] && upgrade=1
say "$( ((upgrade)) && echo upgrading || echo installing ) percept into $app"
run install -d -m 0755 "$(dirname "$app")" "$(dirname "$unit")" "$etc"
# Replace the application atomically enough: copy next to it, then swap.
# Not `cp -a`: it keeps the builder's owner and modes, and exported model directories are drwx------,
# which the service's dynamic user cannot read (exit 65). Copy without them (-H follows a symlinked
# node_modules, as in a git worktree; links inside stay links), then set explicit modes: directories
# 0755, files 0644, executables 0755.
run rm -rf "$app.new"
run install -d -m 0755 "$app.new"
for item in bin dist models config schemas node_modules package.json package-lock.json README.md; do
  run cp -R -H --preserve=timestamps "$src/$item" "$app.new/"
done
run chmod -R u=rwX,go=rX "$app.new"
run rm -rf "$app.old"
((upgrade)) && run mv "$app" "$app.old"
run mv "$app.new" "$app"
run rm -rf "$app.old"

if [ -f "$etc/percept.yaml" ]; then
  say "keeping $etc/percept.yaml; the new defaults are in $etc/percept.yaml.dist"
  run install -m 0644 "$src/config/percept.yaml" "$etc/percept.yaml.dist"
else
  run install -m 0644 "$src/config/percept.yaml" "$etc/percept.yaml"
fi
run install -m 0644 "$src/config/percept.schema.json" "$etc/percept.schema.json"

say "unit $unit"
if ((dry)); then
  printf '[dry-run] write %s from %s (app %s, node %s)\n' "$unit" "$here/percept.service" "$app_dir" "$node_bin"
else
  sed -e "s#@PREFIX@/lib/percept#$app_dir#g" -e "s#@PREFIX@#$app_dir#g" -e "s#@NODE@#$node_bin#g" "$here/percept.service" > "$unit.new"
  chmod 0644 "$unit.new" && mv "$unit.new" "$unit"
fi
if ((jetson)); then
  say "Jetson: camera daemon drop-in $dropins/jetson-camera.conf"
  run install -d -m 0755 "$dropins"
  run install -m 0644 "$here/jetson-camera.conf" "$dropins/jetson-camera.conf"
fi
if ((use_systemctl)); then
  run systemctl daemon-reload
  run systemctl enable percept.service
  if ((upgrade)); then run systemctl try-restart percept.service; else say "edit $etc/percept.yaml (source.uri, mqtt.url), then: systemctl start percept"; fi
fi
say "done"
