#!/usr/bin/env bash
# Builds the Debian package of percept from a built checkout (npm run setup first): `npm run package`.
#
#   scripts/package-deb.sh [--out DIR] [--fast|--no-compress]
#
#   --out DIR        where percept_<version>_<arch>.deb goes (default: the checkout)
#   --fast           gzip -1 instead of xz (tests: seconds instead of minutes); PERCEPT_DEB_COMPRESS=fast
#   --no-compress    no compression at all;                                    PERCEPT_DEB_COMPRESS=none
#
# The package is for the distribution release and architecture it is built on (the OpenCV addon links
# that release's OpenCV sonames; the Depends: line is computed from what the binaries link here): Debian
# 12 amd64 on this machine, Debian 13 arm64 on an arm64 one. It holds everything a kiosk needs offline:
# the compiled agent, production npm packages only, the default models (converted face-api nets and
# YuNet with its licence — Apache-2.0 allows redistribution) and a node binary (Debian 12 has only
# Node 18), so installing needs nothing but Debian's archive.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$(pwd)"
out="$src" compress="${PERCEPT_DEB_COMPRESS:-xz}"
while (($#)); do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift ;;
    --fast) compress=fast ;;
    --no-compress) compress=none ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "package-deb.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
say() { printf '[package] %s\n' "$*" >&2; }
die() { printf 'package-deb.sh: %s\n' "$*" >&2; exit 1; }
t0=$(date +%s)

node_bin="$(readlink -f "$(command -v node)")"
node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "node $("$node_bin" --version) at $node_bin is too old: the package bundles the node it is built with, and percept needs >= 20"
node_arch="$("$node_bin" -p process.arch)"
arch="$(dpkg --print-architecture)"
version="$("$node_bin" -p 'require("./package.json").version')"
addon=node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node
for need in dist/agent/cli/main.js "$addon" models/face-api/ssd-mobilenetv1/model.json models/yunet/yunet-n/yunet_n_dynamic.onnx models/yunet/yunet-n/LICENSE; do
  [ -e "$need" ] || die "$need is missing: run 'PERCEPT_MODEL_MIRROR=… npm run setup' first (it builds, converts the face-api nets and fetches YuNet)"
done
for tool in dpkg-deb dpkg-shlibdeps; do command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg-dev)"; done

deb="$out/percept_${version}_${arch}.deb"
# Maintainer: and the changelog's signer; set PERCEPT_DEB_MAINTAINER="Name <address>" for your fleet.
maintainer="${PERCEPT_DEB_MAINTAINER:-percept maintainers <maintainers@percept.example.org>}"
stage="$(mktemp -d "${TMPDIR:-/tmp}/percept-deb.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
app="$root/usr/lib/percept"
doc="$root/usr/share/doc/percept"
install -d -m 0755 "$app" "$root/usr/bin" "$root/etc/percept" "$root/lib/systemd/system/percept.service.d" "$doc" \
  "$root/usr/share/bash-completion/completions" "$root/DEBIAN"

# --- application --------------------------------------------------------------------------------------
say "staging the application (dist/agent, bin, config, schemas, models)"
install -d -m 0755 "$app/dist"
cp -R dist/agent "$app/dist/"
cp -R bin config schemas "$app/"
cp package.json "$app/"
# Models: the weights and manifests only (the converters' sources stay in the checkout).
install -d -m 0755 "$app/models"
cp models/catalog.json "$app/models/"
(cd models && find face-api yunet -type f \( -name '*.json' -o -name '*.bin' -o -name '*.onnx' -o -name 'LICENSE*' \) -print0) |
  (cd models && xargs -0 cp --parents -t "$app/models/")

# --- production npm packages ----------------------------------------------------------------------------
# The closure of package.json's dependencies as package-lock.json resolves them (what `npm ci --omit=dev`
# would install, but offline and with the addon already built), minus what only builds the OpenCV addon
# (node-gyp and its tree, nan's C++ headers): @u4/opencv4nodejs declares them as dependencies, but only its
# install script uses them. Each package is copied without its nested node_modules, which the walk reaches
# on its own.
say "staging production npm packages"
"$node_bin" --input-type=module - "$src" "$app" <<'EOF2'
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const [src, app] = process.argv.slice(2);
const BUILD_ONLY = new Set(['node-gyp', 'nan']);
const lock = JSON.parse(readFileSync(join(src, 'package-lock.json'), 'utf8')).packages;
/** Node's resolution in the lock: the nearest node_modules/<name> from `from` upwards. */
const resolve = (from, name) => {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock[key]) return key;
    if (!dir) return null;
  }
};
const seen = new Set();
const walk = (key) => {
  const meta = lock[key];
  const deps = { ...meta.dependencies, ...meta.optionalDependencies };
  for (const name of Object.keys(deps)) {
    if (BUILD_ONLY.has(name)) continue;
    const dep = resolve(key, name);
    if (dep === null) {
      if (meta.optionalDependencies?.[name]) continue;
      throw new Error(`${name}, needed by ${key || 'percept'}, is not in package-lock.json`);
    }
    if (seen.has(dep)) continue;
    seen.add(dep);
    walk(dep);
  }
};
walk('');
let n = 0;
for (const key of [...seen].sort()) {
  const from = join(src, key);
  if (!existsSync(from)) continue; // an optional dependency for another platform
  const nested = join(from, 'node_modules');
  cpSync(from, join(app, key), { recursive: true, filter: (p) => p !== nested && !p.startsWith(nested + '/') });
  n += 1;
}
process.stderr.write(`[package] ${n} production packages\n`);
EOF2
nm="$app/node_modules"
# onnxruntime-node ships every platform's binaries (~220 MB of darwin, win32 and the other Linux arch).
ort="$(echo "$nm"/onnxruntime-node/bin/napi-v*)"
find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$node_arch" -exec rm -rf {} +
[ -f "$ort/linux/$node_arch/libonnxruntime.so.1" ] || die "onnxruntime-node has no linux/$node_arch binary"
# The OpenCV addon: the built module only (object files and C++ sources are build leftovers).
cv="$nm/@u4/opencv4nodejs"
rm -rf "$cv/build/Release/obj.target" "$cv/build/Release/.deps" "$cv/build/Release/obj" "$cv/cc" "$cv/src"
find "$cv/build" -type f ! -name '*.node' ! -name '*.json' -delete
# Nothing executes these at run time: docs, type declarations, source maps, benchmarks, VCS and build files.
find "$nm" \( -name '*.md' -o -name '*.markdown' -o -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \
  -o -name '.npmignore' -o -name '.eslintrc*' -o -name '.gitattributes' -o -name '.travis.yml' -o -name '*.gyp' -o -name '*.gypi' \
  -o -name 'Makefile' -o -name '*.bat' -o -name '.github' -o -name 'benchmarks' -o -name 'obj.target' -o -name '.deps' \) -prune -exec rm -rf {} +
# Scripts npm would link into .bin: nothing runs them here, but when one is run it must find a node — the
# bundled one (there is no other on a kiosk).
grep -rlZ --include='*.js' --include='*.mjs' --include='*.cjs' -m1 '^#!/usr/bin/env node' "$nm" "$app/bin" |
  xargs -0 -r sed -i '1s#^\#!/usr/bin/env node#\#!/usr/lib/percept/node/bin/node#'
find "$nm" -type d -empty -delete

# --- node ------------------------------------------------------------------------------------------------
say "bundling node $("$node_bin" --version) from $node_bin"
install -d -m 0755 "$app/node/bin"
install -m 0755 "$node_bin" "$app/node/bin/node"
node_licence=""
for l in "$(dirname "$node_bin")/../share/doc/node/LICENSE" /usr/share/doc/nodejs/LICENSE /usr/share/doc/nodejs/copyright; do
  [ -f "$l" ] && { node_licence="$l"; break; }
done
[ -n "$node_licence" ] || die "no licence file found for $node_bin (looked in ../share/doc/node and /usr/share/doc/nodejs)"
install -m 0644 "$node_licence" "$app/node/LICENSE"

# --- command, unit, config, completion, docs ---------------------------------------------------------------
install -m 0755 packaging/percept.sh "$root/usr/bin/percept"
install -m 0644 systemd/percept.service "$root/lib/systemd/system/percept.service"
install -m 0644 systemd/limits.conf "$root/lib/systemd/system/percept.service.d/limits.conf"
install -d -m 0755 "$app/systemd"
install -m 0644 systemd/jetson-camera.conf "$app/systemd/jetson-camera.conf"
# The packaged config: the documented defaults, pointed at the local broker (Recommends: mosquitto); the
# embedded broker is for `percept demo` and development.
sed -e '/^mqtt:/,/^[a-z]/ s#^\(  url: \)""\(\s*\)\#.*#\1"mqtt://127.0.0.1:1883"  \# the local broker (mosquitto); empty: an embedded one (demo, development)#' config/percept.yaml > "$root/etc/percept/percept.yaml"
grep -q '^  url: "mqtt://127.0.0.1:1883"' "$root/etc/percept/percept.yaml" || die "could not set mqtt.url in the packaged config (config/percept.yaml changed shape?)"
sed -i 's#\$schema=\./percept\.schema\.json#$schema=/usr/lib/percept/config/percept.schema.json#' "$root/etc/percept/percept.yaml"
chmod 0640 "$root/etc/percept/percept.yaml"
"$node_bin" bin/percept.js completion > "$root/usr/share/bash-completion/completions/percept"
install -m 0644 packaging/copyright "$doc/copyright"
install -m 0644 README.md "$doc/README.md"
# The README links into docs/: without it every link on a kiosk would be dead.
install -d -m 0755 "$doc/docs/img"
install -m 0644 docs/*.md "$doc/docs/"
install -m 0644 docs/img/*.png docs/img/README.md "$doc/docs/img/"
install -d -m 0755 "$root/usr/share/man/man1"
gzip -9n < packaging/percept.1 > "$root/usr/share/man/man1/percept.1.gz"
{
  printf 'percept (%s) unstable; urgency=medium\n\n' "$version"
  printf '  * Package built from %s.\n\n' "$(git -C "$src" describe --always --dirty 2>/dev/null || echo 'a checkout')"
  printf ' -- %s  %s\n' "$maintainer" "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# Everything root's and readable by the service's dynamic user: directories 0755, files 0644, executables
# 0755 (exported model directories can be drwx------ in the checkout, which the service cannot read).
# Shared objects are not programs (0644); scripts with the bundled node's #! are (0755).
find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$root" -path "$root/DEBIAN" -prune -o -type f -perm /111 -exec chmod 0755 {} + -o -type f ! -path "$root/etc/*" -exec chmod 0644 {} +
find "$app" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \) -exec chmod 0644 {} +
grep -rlZ -m1 '^#!/usr/lib/percept/node/bin/node' "$app/bin" "$nm" | xargs -0 -r chmod 0755
# …and a file with the executable bit that is neither (a packaging slip upstream, e.g. wrap-ansi) is not.
find "$nm" -type f -perm /111 -print0 | while IFS= read -r -d '' f; do
  head -c4 "$f" | grep -qaE $'^(#!|\x7fELF)' || chmod 0644 "$f"
done
# Debug symbols are of no use on a kiosk (node: ~5 MB; the addons: most of their size).
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$app/node/bin/node" \
  $(find "$nm" -type f -name '*.node')

# --- Depends -------------------------------------------------------------------------------------------------
# dpkg-shlibdeps maps every library the binaries link to the Debian package (and minimal version) that
# provides it; onnxruntime's own library ships inside the package (-l, no package needed).
say "computing Depends with dpkg-shlibdeps"
bins=("$app/node/bin/node" "$cv/build/Release/opencv4nodejs.node" "$ort/linux/$node_arch/"*)
while IFS= read -r -d '' f; do bins+=("$f"); done < <(find "$nm" -name '*.node' ! -path "$ort/*" ! -path "$cv/*" -print0)
install -d "$stage/src/debian"
printf 'Source: percept\n\nPackage: percept\nArchitecture: any\n' > "$stage/src/debian/control"
shlibs="$(cd "$stage/src" && dpkg-shlibdeps -O -l"$ort/linux/$node_arch" --ignore-missing-info "${bins[@]}" 2>"$stage/shlibdeps.log")" ||
  { cat "$stage/shlibdeps.log" >&2; die "dpkg-shlibdeps failed"; }
depends="${shlibs#shlibs:Depends=}"
# Strip nothing here: the file renames below must not change the binaries dpkg-shlibdeps just read.
installed_kb="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat > "$root/DEBIAN/control" <<EOF
Package: percept
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kb
Depends: adduser, $depends
Recommends: mosquitto, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-libav
Section: video
Priority: optional
Homepage: https://github.com/percept/percept
Description: edge camera agent: age, gender and emotion per visitor over MQTT
 percept watches a camera (V4L2, RTSP, a GStreamer pipeline or a video
 file), detects and tracks faces, estimates age group, gender and
 expression per visit and publishes anonymous events over MQTT. No image
 and no face embedding leaves the device.
 .
 It bundles its own node binary and npm packages under /usr/lib/percept
 and runs as the percept.service systemd unit (a dynamic user; the
 configuration is /etc/percept/percept.yaml).
EOF
echo /etc/percept/percept.yaml > "$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "packaging/$s" "$root/DEBIAN/$s"; done
install -d -m 0755 "$root/usr/share/lintian/overrides"
install -m 0644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/percept"

(cd "$root" && find . -path ./DEBIAN -prune -o -type f ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles" "$root/DEBIAN/control"

case "$compress" in
  xz) zopt=(-Zxz) ;;
  fast) zopt=(-Zgzip -z1) ;;
  none) zopt=(-Znone) ;;
  *) die "PERCEPT_DEB_COMPRESS must be xz, fast or none (not $compress)" ;;
esac
install -d "$out"
say "dpkg-deb --build (${zopt[*]})"
dpkg-deb --root-owner-group "${zopt[@]}" --build "$root" "$deb" >&2
say "$deb: $(du -h "$deb" | cut -f1) (installed $((installed_kb / 1024)) MB), Depends: $depends; in $(( $(date +%s) - t0 )) s"
echo "$deb"
