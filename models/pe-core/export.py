#!/usr/bin/env python3
"""Export a Perception Encoder (PE-Core) backbone + a PEFT LoRA/DoRA adapter + three task heads as one
merged ONNX model in a percept model directory (model.onnx, model.json, parity fixture).

    export.py --backbone vit_pe_core_large_patch14_336 --adapter ADAPTER_DIR --heads heads.safetensors --out DIR
    export.py --backbone vit_pe_core_tiny_patch16_384 --random-init --seed 0 --out DIR   # tests

The adapter is merged with peft's merge_and_unload (W' = m/||W+BA·s|| · (W+BA·s) for DoRA), so the
exported graph costs no more than the base model. Before anything is written the tool checks that the
adapter matches the backbone (every adapter tensor has a place of the right shape, every adapted layer
got its tensors) and that the merged model's logits equal the unmerged PEFT model's.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import time
import types

from files import sha256, world_readable
from shared import (LABELS, TOLERANCE, ExportError, load_adapter, load_heads, log, max_diff, random_adapter,
                    random_heads, save_peft_adapter)

OUTPUTS = [f"{t}_logits" for t in LABELS]


def import_timm():
    # This machine's pip mirror has only CUDA builds of torchvision, whose C extension cannot load next to
    # the CPU torch wheel; importing torchvision then fails while registering its operators' meta kernels.
    # timm imports torchvision at module level but PE-Core uses none of its operators, so skip just that
    # registration step when (and only when) the extension is missing.
    try:
        import torchvision  # noqa: F401
    except Exception:  # noqa: BLE001 - any failure here is the one described above
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import timm

    return timm


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backbone", default="vit_pe_core_large_patch14_336", help="timm PE-Core model name")
    p.add_argument("--adapter", help="PEFT adapter directory (adapter_config.json + adapter_model.safetensors)")
    p.add_argument("--heads", help="safetensors with age/gender/emotion .weight [C, D] and .bias [C]")
    p.add_argument("--backbone-weights", help="safetensors/pt state dict of the backbone (default: timm's init; "
                   "the PE weights cannot be downloaded here)")
    p.add_argument("--random-init", action="store_true", help="random adapter(s) and heads (tests)")
    p.add_argument("--mode", choices=["merged", "base"], default="merged",
                   help="base: backbone and heads only, no adapter merged (a base for `percept models merge`); "
                   "with --random-init --seed S the same backbone and heads as the merged export of that seed")
    p.add_argument("--adapter-kind", choices=["dora", "lora"], default="dora", help="--random-init: kind of the random adapter")
    p.add_argument("--variant", choices=["single-tail", "mtlora"], default="single-tail",
                   help="mtlora: task-agnostic adapter in the shared trunk plus a task-specific LoRA per task on the last "
                   "block and the attention pooling, exported as one trunk and one merged tail per task")
    p.add_argument("--task-adapter", action="append", default=[], metavar="TASK=DIR",
                   help="MTLoRA: the task-specific PEFT LoRA adapter of TASK (age, gender, emotion), once per task")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rank", type=int, default=64, help="--random-init: adapter rank")
    p.add_argument("--save-adapter", help="--random-init: also write the random adapter and heads in PEFT format here")
    p.add_argument("--out", required=True, help="model directory to write")
    p.add_argument("--name", help="model name in the manifest (default: derived from the backbone)")
    p.add_argument("--crop-margin", type=float, default=0.2, help="face crop margin the model was trained with")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--fp16", action="store_true", help="also write OUT-fp16/ (LayerNorm kept in fp32)")
    p.add_argument("--int8", action="store_true", help="also write OUT-int8/: MatMul/Gemm weights int8 (dynamic quantization), "
                   "LayerNorm and softmax fp32 (quantize.py)")
    p.add_argument("--batch", type=int, default=2, help="batch of the parity fixture")
    a = p.parse_args(argv)
    if a.task_adapter and a.variant != "mtlora":
        a.variant = "mtlora"
    if a.mode == "base":
        if a.adapter or a.task_adapter or a.variant == "mtlora":
            p.error("--mode base exports the backbone and heads without any adapter: drop --adapter/--task-adapter/--variant")
        if not a.random_init and not a.heads:
            p.error("--mode base needs --heads (or --random-init)")
        if a.save_adapter and not a.random_init:
            p.error("--save-adapter needs --random-init")
        return a
    if a.random_init == bool(a.adapter):
        p.error("give either --adapter (with --heads) or --random-init")
    if a.adapter and not a.heads:
        p.error("--adapter needs --heads")
    if a.variant == "mtlora" and not a.random_init and not a.task_adapter:
        p.error("--variant mtlora needs --task-adapter TASK=DIR for each task (age, gender, emotion)")
    if a.random_init and a.task_adapter:
        p.error("--random-init makes its own task adapters: drop --task-adapter")
    return a


class Multitask:
    """Builds the nn.Module lazily so torch is imported only after argument parsing."""

    @staticmethod
    def make(backbone, dim):
        import torch

        class MultitaskModel(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.backbone = backbone
                self.heads = torch.nn.ModuleDict({t: torch.nn.Linear(dim, len(l)) for t, l in LABELS.items()})

            def forward(self, pixel_values):
                f = self.backbone(pixel_values)
                return tuple(self.heads[t](f) for t in LABELS)

        return MultitaskModel()


def export_onnx(model, x, path, opset):
    import torch

    dynamic = {"pixel_values": {0: "batch"}, **{o: {0: "batch"} for o in OUTPUTS}}
    # No constant folding: folding transposes every Linear weight and renames it onnx::MatMul_NNN (design §1),
    # and `percept models merge` needs each weight under its PyTorch name. onnxruntime folds the transposes
    # itself when it loads the model, so inference costs the same.
    kw = dict(input_names=["pixel_values"], output_names=OUTPUTS, dynamic_axes=dynamic, opset_version=opset, do_constant_folding=False)
    try:
        torch.onnx.export(model, (x,), path, dynamo=False, **kw)
    except TypeError:  # a torch without the dynamo switch
        torch.onnx.export(model, (x,), path, **kw)


def adaptable_layers(path, layers):
    """Where the exported ONNX keeps each adaptable linear weight, checked by reading the file.

    layers: {module path as PEFT names it in the backbone: (initializer name, (out, in))}."""
    import onnx

    inits = {i.name: tuple(i.dims) for i in onnx.load(path, load_external_data=False).graph.initializer}
    found = {}
    for module, (init, (out, inp)) in layers.items():
        dims = inits.get(init)
        if dims == (out, inp):
            found[module] = {"initializer": init, "layout": "out-in", "shape": [out, inp]}
        elif dims == (inp, out) and out != inp:
            found[module] = {"initializer": init, "layout": "in-out", "shape": [out, inp]}
        else:
            raise ExportError(f"the ONNX has no initializer {init} of shape ({out}, {inp}) for {module} (got {dims}); "
                              "the exporter renamed or folded weights, so adapters could not be merged into this model")
    return found


def onnx_logits(path, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return [__import__("torch").from_numpy(o) for o in sess.run(OUTPUTS, {"pixel_values": x.numpy()})]


def write_manifest(out, name, size, provenance, licence, margin, precision, variant="single-tail", adaptable=None, what="adapter merged"):
    manifest = {
        "schema": 1,
        "name": name,
        "kind": "attributes",
        "description": f"PE-Core multitask model (age 9 groups, gender, emotion 7), {variant}, {what}, {precision}",
        "variant": variant,
        "precision": precision,
        "model": "model.onnx",
        "files": [{"path": "model.onnx", "sha256": sha256(os.path.join(out, "model.onnx")), "bytes": os.path.getsize(os.path.join(out, "model.onnx"))}],
        "input": {"name": "pixel_values", "shape": ["batch", 3, size, size], "layout": "NCHW", "colour": "RGB", "resize": "squash",
                  "cropMargin": margin, "normalise": {"mean": [127.5] * 3, "std": [127.5] * 3}},
        "outputs": [{"name": f"{t}_logits", "shape": ["batch", len(l)], "task": t, "type": "softmax-logits", "labels": l} for t, l in LABELS.items()],
        "provenance": provenance,
        "licence": licence,
    }
    if adaptable:
        # Backbone module path (as a PEFT adapter names it) → ONNX initializer, for `percept models merge`.
        manifest["adaptable"] = adaptable
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


def write_fixture(out, x, logits):
    os.makedirs(os.path.join(out, "parity"), exist_ok=True)
    spec = {"input": {"name": "pixel_values", "file": "parity/pixel_values.f32", "shape": list(x.shape)}, "outputs": {}}
    x.numpy().astype("<f4").tofile(os.path.join(out, spec["input"]["file"]))
    for name, t in zip(OUTPUTS, logits):
        spec["outputs"][name] = {"file": f"parity/{name}.f32", "shape": list(t.shape)}
        t.numpy().astype("<f4").tofile(os.path.join(out, spec["outputs"][name]["file"]))
    with open(os.path.join(out, "parity.json"), "w") as f:
        json.dump(spec, f, indent=2)


class HalfWithFp32LayerNorm:
    @staticmethod
    def make(model):
        import torch

        half = copy.deepcopy(model).half()
        for m in half.modules():
            # fp16 LayerNorm after attention overflows (design §1): keep it, and its input, in fp32.
            if isinstance(m, torch.nn.LayerNorm):
                m.float()
                m.register_forward_pre_hook(lambda _m, args: tuple(a.float() for a in args))
                m.register_forward_hook(lambda _m, _args, out: out.half())

        class Fp32Io(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = half

            def forward(self, pixel_values):
                return tuple(o.float() for o in self.inner(pixel_values.half()))

        return Fp32Io().eval()


def main(argv=None):
    a = parse_args(argv)
    t_start = time.time()
    import torch

    timm = import_timm()
    torch.manual_seed(a.seed)
    try:
        backbone = timm.create_model(a.backbone, pretrained=False, num_classes=0)
    except RuntimeError as err:
        raise ExportError(f"--backbone {a.backbone}: {err}") from err
    if type(backbone).__name__ != "Eva" or "pe_core" not in a.backbone:
        raise ExportError(f"--backbone {a.backbone} is not a timm PE-Core model (vit_pe_core_*)")
    if a.backbone_weights:
        state = torch.load(a.backbone_weights, map_location="cpu") if a.backbone_weights.endswith(".pt") else \
            __import__("safetensors.torch", fromlist=["load_file"]).load_file(a.backbone_weights)
        backbone.load_state_dict(state, strict=True)
    backbone.eval()
    size = backbone.pretrained_cfg["input_size"][-1]
    dim = backbone.num_features
    linears = {n: (m.out_features, m.in_features) for n, m in backbone.named_modules() if isinstance(m, torch.nn.Linear)}
    log(f"backbone {a.backbone}: {sum(p.numel() for p in backbone.parameters()) / 1e6:.2f} M params, {size}px, width {dim}, "
        f"{len(linears)} linear layers")
    x = torch.rand((a.batch, 3, size, size), generator=torch.Generator().manual_seed(a.seed + 3)) * 2 - 1
    kind = "DoRA" if a.adapter_kind == "dora" else "LoRA"

    if a.variant == "mtlora":
        import mtlora

        model, merged, what = mtlora.build(a, backbone, dim, x)
        adaptable = {n: (f"trunk.{n}.weight", s) for n, s in linears.items() if not mtlora.in_tail(n, backbone)}
    elif a.mode == "base":
        # Same draws as the merged export of this seed: the backbone right after manual_seed, then the
        # adapter (before anything else touches the global generator), heads from seed+2.
        extra = random_adapter(copy.deepcopy(backbone), a.rank, a.seed, dora=a.adapter_kind == "dora") if a.save_adapter else None
        model = Multitask.make(backbone, dim).eval()
        if a.random_init:
            random_heads(model, a.seed)
        else:
            load_heads(model, a.heads, dim)
        with torch.no_grad():
            merged = model(x)
            if extra is not None:
                # The adapter a `percept models merge` test applies to this base, with peft's own merge as the reference.
                save_peft_adapter(extra, model, a.save_adapter)
                reference = Multitask.make(extra.merge_and_unload(safe_merge=True), dim).eval()
                reference.heads.load_state_dict(model.heads.state_dict())
                write_fixture(a.save_adapter, x, reference(x))
                log(f"random {kind} r={a.rank} adapter saved to {a.save_adapter} with peft merge_and_unload logits (parity.json)")
        what = "no adapter merged (a base for percept models merge)"
        adaptable = {n: (f"backbone.{n}.weight", s) for n, s in linears.items()}
    else:
        peft_model = random_adapter(backbone, a.rank, a.seed, dora=a.adapter_kind == "dora") if a.random_init else load_adapter(backbone, a.adapter)
        trainable = sum(p.numel() for n, p in peft_model.named_parameters() if "lora_" in n)
        log(f"adapter: {trainable / 1e6:.2f} M adapter params ({100 * trainable / sum(p.numel() for p in backbone.parameters()):.2f} % of the backbone)")
        model = Multitask.make(peft_model, dim).eval()
        if a.random_init:
            random_heads(model, a.seed)
            if a.save_adapter:
                save_peft_adapter(peft_model, model, a.save_adapter)
                log(f"random {kind} adapter and heads saved in PEFT format to {a.save_adapter}")
        else:
            load_heads(model, a.heads, dim)
        with torch.no_grad():
            unmerged = model(x)
            model.backbone = peft_model.merge_and_unload(safe_merge=True)
            merged = model(x)
        d_merge = max_diff(unmerged, merged)
        log(f"merged vs unmerged PEFT model: max |Δlogit| = {d_merge:.2e}")
        if d_merge > TOLERANCE:
            raise ExportError(f"merging changed the logits by {d_merge:.2e} (> {TOLERANCE}); nothing written")
        what = "adapter merged"
        adaptable = {n: (f"backbone.{n}.weight", s) for n, s in linears.items()}

    name = a.name or a.backbone.replace("vit_", "").replace("_", "-") + ("-random" if a.random_init else "") \
        + ("-base" if a.mode == "base" else "") + ("-mtlora" if a.variant == "mtlora" else "")
    if a.mode == "base":
        origin = "heads from seed %d, no adapter" % a.seed if a.random_init else f"heads {os.path.abspath(a.heads)}, no adapter"
    elif a.variant == "mtlora":
        origin = what
    elif a.random_init:
        origin = f"random {kind} r={a.rank} adapter and heads, seed {a.seed}"
    else:
        origin = f"adapter {os.path.abspath(a.adapter)} + heads {os.path.abspath(a.heads)}"
    provenance = (f"percept models/pe-core/export.py: timm {timm.__version__} {a.backbone}"
                  + (f" + weights {os.path.basename(a.backbone_weights)}" if a.backbone_weights else " (timm init weights)")
                  + f", {origin}, peft {__import__('peft').__version__}, torch {torch.__version__}, opset {a.opset}")
    licence = ("random weights for tests; no licence terms" if a.random_init
               else "backbone: Meta Perception Encoder (Apache-2.0); adapter and heads: as their owner states")

    def write(out, net, precision):
        tmp = tempfile.mkdtemp(prefix=".export-", dir=os.path.dirname(os.path.abspath(out)) or ".")
        try:
            t0 = time.time()
            onnx_path = os.path.join(tmp, "model.onnx")
            export_onnx(net, x, onnx_path, a.opset)
            got = onnx_logits(onnx_path, x)
            d = max_diff(got, merged)
            log(f"{precision}: ONNX exported in {time.time() - t0:.1f} s, {os.path.getsize(onnx_path) / 1e6:.1f} MB; "
                f"onnxruntime vs PyTorch max |Δlogit| = {d:.2e}")
            if precision == "fp32" and d > TOLERANCE:
                raise ExportError(f"onnxruntime differs from PyTorch by {d:.2e} (> {TOLERANCE}); nothing written")
            # fp16 weights are not merge targets (merging needs fp32; convert after merging).
            where = adaptable_layers(onnx_path, adaptable) if precision == "fp32" else None
            write_fixture(tmp, x, merged if precision == "fp32" else got)
            write_manifest(tmp, name + ("-fp16" if precision == "fp16" else ""), size, provenance, licence, a.crop_margin, precision,
                           a.variant, where, what)
            world_readable(tmp)
            if os.path.exists(out):
                shutil.rmtree(out)
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return d

    write(a.out, model, "fp32")
    if a.fp16:
        write(a.out.rstrip("/") + "-fp16", HalfWithFp32LayerNorm.make(model), "fp16")
    if a.int8:
        # From the fp32 ONNX just written (not from PyTorch): the int8 copy's fixture is its own outputs on the same input.
        import quantize

        quantize.write_int8_dir(a.out, a.out.rstrip("/") + "-int8")
    log(f"done in {time.time() - t_start:.1f} s: {a.out}")


if __name__ == "__main__":
    from quantize import QuantizeError

    try:
        main()
    except (ExportError, QuantizeError) as e:
        print(f"export.py: {e}", file=sys.stderr)
        sys.exit(2)
