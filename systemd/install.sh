#!/usr/bin/env bash
# Installs percept from a checkout the one supported way: builds the Debian package (npm run package)
# and installs it with apt, which also brings its Depends and Recommends. Kiosks install the .deb itself.
#
# Usage:
#   systemd/install.sh               build the .deb from this (built) checkout and install or upgrade it
#   systemd/install.sh --uninstall   apt remove: config, credentials and state are kept (--purge: removed too)
#
# Needs root and a built checkout (npm run setup). Config: /etc/percept/percept.yaml (kept on upgrade).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/.." && pwd)"
action=install purge=0
while (($#)); do
  case "$1" in
    --uninstall) action=uninstall ;;
    --purge) purge=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help; the package replaced --prefix, --dry-run and --jetson)" >&2; exit 64 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: needs root (apt installs the package): sudo $0" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
if [ "$action" = uninstall ]; then
  if ((purge)); then apt-get purge -y percept; else apt-get remove -y percept; fi
  exit 0
fi
deb="$(bash "$src/scripts/package-deb.sh" --out "$src/.cache/deb")"
apt-get install -y --allow-downgrades "$deb"
echo "[install] installed $deb; edit /etc/percept/percept.yaml (source.uri, mqtt.url), then: sudo systemctl restart percept"
