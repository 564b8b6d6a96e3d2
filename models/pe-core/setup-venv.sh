#!/usr/bin/env bash
# Creates the export tool's virtualenv (.cache/pe-core-venv) from requirements.txt, idempotently, and
# prints its python's path on stdout. Uses the machine's local pip mirror when there is one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${PE_CORE_VENV:-$root/.cache/pe-core-venv}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/python"
  exit 0
fi
echo "[pe-core] creating $venv (torch, timm, peft, onnx, onnxruntime; about a minute)…" >&2
python3 -m venv "$venv"
# Fail fast instead of retrying an index this machine cannot reach; prefer the local mirror when present.
args=(--retries 0 --timeout 15 --disable-pip-version-check -q)
[ -d /opt/pypi/simple ] && args+=(--index-url file:///opt/pypi/simple)
[ -d /opt/pypi-more/simple ] && args+=(--extra-index-url file:///opt/pypi-more/simple)
"$venv/bin/pip" install "${args[@]}" -r "$here/requirements.txt" 2> >(grep -v "^WARNING: Location" >&2)
echo "$want" > "$stamp"
echo "$venv/bin/python"
