"""File helpers shared by export.py, mtlora.py and quantize.py: a model directory's checksums and modes."""
from __future__ import annotations

import hashlib
import os


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def world_readable(root):
    # mkdtemp makes drwx------; a model directory is read by the agent's own (often different) user.
    os.chmod(root, 0o755)
    for d, dirs, files in os.walk(root):
        for n in dirs:
            os.chmod(os.path.join(d, n), 0o755)
        for n in files:
            os.chmod(os.path.join(d, n), 0o644)
