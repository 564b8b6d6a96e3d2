"""What export.py and mtlora.py share: the label spaces, the error both report, and the PEFT adapter and
head helpers. Its own module so that mtlora.py does not import export.py, which imports mtlora.py.
"""
from __future__ import annotations

import os
import sys

from files import world_readable

LABELS = {
    "age": ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"],
    "gender": ["male", "female"],
    "emotion": ["surprise", "fear", "disgust", "happy", "sad", "angry", "neutral"],
}
TOLERANCE = 1e-4


class ExportError(Exception):
    """A problem with the inputs, reported as one clear line and exit code 2."""


def log(msg: str) -> None:
    print(f"[export] {msg}", file=sys.stderr, flush=True)


def linear_names(module):
    import torch

    return [n for n, m in module.named_modules() if isinstance(m, torch.nn.Linear)]


def random_adapter(backbone, rank, seed, dora=True, targets=None):
    import torch
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=rank, lora_alpha=rank, use_dora=dora, target_modules=targets or linear_names(backbone), lora_dropout=0.0)
    model = get_peft_model(backbone, cfg)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            # peft starts B at zero (a no-op adapter); a test needs one that changes every layer.
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
            elif "lora_magnitude_vector" in name:
                p.mul_(1 + 0.05 * torch.randn(p.shape, generator=g))
    return model


def adapter_keys_for(model):
    """The adapter tensors the model holds, keyed as PEFT saves them."""
    from peft import get_peft_model_state_dict

    return {k: v.shape for k, v in get_peft_model_state_dict(model).items()}


def load_adapter(backbone, adapter_dir, label="adapter"):
    from peft import PeftConfig, PeftModel
    from safetensors.torch import load_file

    cfg_path = os.path.join(adapter_dir, "adapter_config.json")
    weights_path = os.path.join(adapter_dir, "adapter_model.safetensors")
    for p in (cfg_path, weights_path):
        if not os.path.exists(p):
            raise ExportError(f"{label}: {p} is missing (a PEFT adapter directory holds adapter_config.json and adapter_model.safetensors)")
    cfg = PeftConfig.from_pretrained(adapter_dir)
    names = linear_names(backbone)
    targets = cfg.target_modules
    if isinstance(targets, (list, set, tuple)):
        unknown = sorted(t for t in targets if not any(n == t or n.endswith("." + t) for n in names))
        if unknown:
            raise ExportError(f"{label}: target modules {unknown} are not linear layers of {type(backbone).__name__} "
                              f"(it has e.g. {sorted({n.split('.')[-1] for n in names})}); wrong --backbone?")
    try:
        model = PeftModel.from_pretrained(backbone, adapter_dir, is_trainable=False)
    except (ValueError, RuntimeError, KeyError) as err:
        lines = [l.strip() for l in str(err).splitlines() if l.strip()]
        detail = next((l for l in lines if "size mismatch" in l), lines[0] if lines else repr(err))
        raise ExportError(f"{label} does not fit the backbone (nothing was merged): {detail} "
                          f"({sum('size mismatch' in l for l in lines)} tensors of the wrong shape; wrong --backbone?)") from err
    saved = load_file(weights_path)
    expected = adapter_keys_for(model)
    problems = []
    for k, t in saved.items():
        if k not in expected:
            problems.append(f"{k} has no place in the model")
        elif tuple(t.shape) != tuple(expected[k]):
            problems.append(f"{k} has shape {tuple(t.shape)}, the model needs {tuple(expected[k])}")
    missing = sorted(set(expected) - set(saved))
    if missing:
        problems.append(f"{len(missing)} adapter tensors the model expects are not in the file, e.g. {missing[0]}")
    if problems:
        raise ExportError(f"{label} does not match the backbone (nothing was merged): " + "; ".join(problems[:5]))
    return model


def load_heads(model, path, dim):
    import torch
    from safetensors.torch import load_file

    if not os.path.exists(path):
        raise ExportError(f"heads: {path} is missing")
    t = load_file(path)
    with torch.no_grad():
        for task, labels in LABELS.items():
            w, b = t.get(f"{task}.weight"), t.get(f"{task}.bias")
            if w is None or b is None:
                raise ExportError(f"heads: {path} has no {task}.weight / {task}.bias (keys: {sorted(t)})")
            if tuple(w.shape) != (len(labels), dim) or tuple(b.shape) != (len(labels),):
                raise ExportError(f"heads: {task}.weight is {tuple(w.shape)} and .bias {tuple(b.shape)}; the {task} head needs "
                                  f"({len(labels)}, {dim}) and ({len(labels)},) — labels {labels}")
            model.heads[task].weight.copy_(w)
            model.heads[task].bias.copy_(b)


def max_diff(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


def save_peft_adapter(peft_model, multitask, directory):
    from safetensors.torch import save_file

    os.makedirs(directory, exist_ok=True)
    peft_model.save_pretrained(directory)
    save_file({f"{t}.{k}": v.contiguous() for t in LABELS for k, v in multitask.heads[t].state_dict().items()},
              os.path.join(directory, "heads.safetensors"))
    world_readable(directory)


def random_heads(model, seed):
    import torch

    g = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        for h in model.heads.values():
            h.weight.copy_(torch.randn(h.weight.shape, generator=g) * 0.5)
            h.bias.copy_(torch.randn(h.bias.shape, generator=g) * 0.1)
