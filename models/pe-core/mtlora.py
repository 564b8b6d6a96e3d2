"""MTLoRA export (used by export.py --variant mtlora / --task-adapter TASK=DIR).

MTLoRA trains a task-agnostic adapter on the whole backbone plus one task-specific LoRA per task on the last
transformer block and the attention pooling (the "tail"). The task-specific matrices cannot be merged into a
single weight, but each can be merged into its own copy of the tail: the exported graph is the shared trunk
(patch embedding and every block but the last, task-agnostic adapter merged) followed by one tail per task
(last block + final norm + attention pooling, task-agnostic and that task's LoRA merged) and that task's head.

Unmerged, peft runs a layer with both adapters active as DoRA_ta(x; W) + s·B_t·A_t·x; merging the
task-agnostic adapter first and then adding s·B_t·A_t gives the same weight, which is why the task-specific
adapters must be plain LoRA.
"""
from __future__ import annotations

import copy
import os
import tempfile

from files import world_readable
from shared import (LABELS, TOLERANCE, ExportError, linear_names, load_adapter, load_heads, log, max_diff, random_adapter,
                    random_heads, save_peft_adapter)


def tail_prefixes(backbone):
    return (f"blocks.{len(backbone.blocks) - 1}.", "attn_pool.")


def in_tail(name, backbone):
    return name.startswith(tail_prefixes(backbone))


def parse_task_adapters(specs):
    found = {}
    for spec in specs:
        task, sep, directory = spec.partition("=")
        if not sep or not directory:
            raise ExportError(f"--task-adapter {spec}: write TASK=DIR with TASK one of {', '.join(LABELS)}")
        if task not in LABELS:
            raise ExportError(f"--task-adapter {spec}: unknown task '{task}' (the tasks are {', '.join(LABELS)})")
        if task in found:
            raise ExportError(f"--task-adapter: {task} is given twice")
        found[task] = directory
    missing = [t for t in LABELS if t not in found]
    if missing:
        raise ExportError(f"--task-adapter: no adapter for {', '.join(missing)}; MTLoRA needs one task-specific adapter "
                          f"per task ({', '.join(LABELS)})")
    return found


def check_task_adapter(task, directory, raw_backbone):
    """Plain LoRA on tail modules only, every tensor of the right shape (load_adapter checks shapes on a copy)."""
    from peft import PeftConfig
    from safetensors import safe_open

    label = f"task adapter {task}"
    weights = os.path.join(directory, "adapter_model.safetensors")
    for p in (os.path.join(directory, "adapter_config.json"), weights):
        if not os.path.exists(p):
            raise ExportError(f"{label}: {p} is missing (a PEFT adapter directory holds adapter_config.json and adapter_model.safetensors)")
    tail = tail_prefixes(raw_backbone)
    with safe_open(weights, "pt") as f:
        keys = list(f.keys())
    for key in keys:
        module = key.removeprefix("base_model.model.").rsplit(".lora_", 1)[0]
        if not module.startswith(tail):
            raise ExportError(f"{label}: tensor {key} changes {module}, outside the task tail ({tail[0]}*, {tail[1]}*); "
                              "a task-specific adapter may only change the last block and the attention pooling")
    cfg = PeftConfig.from_pretrained(directory)
    if getattr(cfg, "use_dora", False):
        raise ExportError(f"{label} ({directory}) is a DoRA adapter; MTLoRA's task-specific adapters are plain LoRA "
                          "(use_dora false), which is what merges exactly into each task's tail")
    load_adapter(copy.deepcopy(raw_backbone), directory, label)


class MTLoRAModel:
    @staticmethod
    def make(trunk, tails, heads):
        import torch

        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.trunk = trunk
                self.tails = torch.nn.ModuleDict({t: torch.nn.ModuleDict(parts) for t, parts in tails.items()})
                self.heads = heads

            def forward(self, pixel_values):
                # Eva.forward_features up to the last block, then each task's own last block, norm and pooling.
                b = self.trunk
                h = b.patch_embed(pixel_values)
                h, rope = b._pos_embed(h)
                h = b.norm_pre(h)
                for blk in b.blocks[:-1]:
                    h = blk(h, rope=rope)
                out = []
                for t in LABELS:
                    tail = self.tails[t]
                    y = tail["pool"](tail["norm"](tail["block"](h, rope=rope)))
                    out.append(self.heads[t](b.fc_norm(y)))
                return tuple(out)

        return Model().eval()


def build(a, backbone, dim, x):
    """Returns (model with the merged trunk and tails, its logits on x, a description for the manifest)."""
    import torch
    from peft import PeftModel

    raw = copy.deepcopy(backbone)
    heads = torch.nn.ModuleDict({t: torch.nn.Linear(dim, len(l)) for t, l in LABELS.items()})
    holder = type("Heads", (), {"heads": heads})()
    tail_linears = [n for n in linear_names(backbone) if in_tail(n, backbone)]
    if a.random_init:
        # Random adapters are written as PEFT directories first and then read back like given ones, so the
        # test of this mode also covers the path a real MTLoRA checkpoint takes.
        adapter_dir = a.save_adapter or tempfile.mkdtemp(prefix="mtlora-")
        generated = random_adapter(copy.deepcopy(raw), a.rank, a.seed, dora=a.adapter_kind == "dora")
        random_heads(holder, a.seed)
        save_peft_adapter(generated, holder, adapter_dir)
        task_dirs = {}
        for i, task in enumerate(LABELS):
            ts = random_adapter(copy.deepcopy(raw), a.rank, a.seed + 10 + i, dora=False, targets=tail_linears)
            task_dirs[task] = os.path.join(adapter_dir, "tasks", task)
            ts.save_pretrained(task_dirs[task])
        heads_path = os.path.join(adapter_dir, "heads.safetensors")
        world_readable(adapter_dir)
        log(f"random MTLoRA adapters saved in PEFT format to {adapter_dir} (task-agnostic + heads there, task-specific in tasks/<task>)")
    else:
        adapter_dir, heads_path = a.adapter, a.heads
        task_dirs = parse_task_adapters(a.task_adapter)
    for task, d in task_dirs.items():
        check_task_adapter(task, d, raw)
    shared = load_adapter(backbone, adapter_dir, "task-agnostic adapter")
    load_heads(holder, heads_path, dim)
    n_shared = sum(p.numel() for n, p in shared.named_parameters() if "lora_" in n)

    with torch.no_grad():
        unmerged = []
        for task, d in task_dirs.items():
            shared.load_adapter(d, adapter_name=task, is_trainable=False)
        n_task = sum(p.numel() for n, p in shared.named_parameters() if "lora_" in n) - n_shared
        for task in LABELS:
            shared.base_model.set_adapter(["default", task])
            unmerged.append(heads[task](shared(x)))
        shared.base_model.set_adapter("default")
        trunk = shared.merge_and_unload(safe_merge=True, adapter_names=["default"])
        tails = {}
        for task, d in task_dirs.items():
            merged_task = PeftModel.from_pretrained(copy.deepcopy(trunk), d, is_trainable=False).merge_and_unload(safe_merge=True)
            tails[task] = {"block": merged_task.blocks[-1], "norm": merged_task.norm, "pool": merged_task.attn_pool}
        model = MTLoRAModel.make(trunk, tails, heads)
        merged = model(x)
    total = sum(p.numel() for p in raw.parameters())
    log(f"adapter: MTLoRA {n_shared / 1e6:.2f} M task-agnostic + {n_task / 1e6:.2f} M task-specific adapter params "
        f"({100 * (n_shared + n_task) / total:.2f} % of the backbone); tails: {', '.join(tail_prefixes(raw))}")
    d_merge = max_diff(unmerged, merged)
    log(f"merged vs unmerged PEFT model: max |Δlogit| = {d_merge:.2e}")
    if d_merge > TOLERANCE:
        raise ExportError(f"merging changed the logits by {d_merge:.2e} (> {TOLERANCE}); nothing written")
    origin = "random" if a.random_init else "given"
    what = (f"MTLoRA ({origin} adapters): task-agnostic adapter merged into the shared trunk, task-specific LoRA merged into "
            f"one copy of {' + '.join(p.rstrip('.') for p in tail_prefixes(raw))} per task")
    return model, merged, what
