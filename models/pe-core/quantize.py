#!/usr/bin/env python3
"""int8 copy of a percept model directory: the weights of MatMul/Gemm (and, on request, Conv) in int8,
activations quantized at run time (onnxruntime dynamic quantization); LayerNorm, softmax and every other
operator stay fp32.

    quantize.py SRC_DIR OUT_DIR [--ops MatMul,Gemm] [--per-channel]

export.py --int8 calls write_int8_dir() on the model it has just exported. The copy's manifest says
`precision: "int8"`; when SRC_DIR has a parity fixture, OUT_DIR gets one with the int8 model's own outputs
on the same input, and the top-1 agreement and largest probability difference against fp32 are printed.
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import shutil
import sys
import tempfile

from files import sha256, world_readable

DEFAULT_OPS = ("MatMul", "Gemm")
# Kept in fp32 on purpose: LayerNorm and softmax lose too much in int8, and the quantizer must not touch them.
KEEP_FP32 = ("LayerNormalization", "Softmax")
INT8_OPS = ("MatMulInteger", "ConvInteger", "DynamicQuantizeLinear")


class QuantizeError(Exception):
    """A problem with the inputs, reported as one clear line and exit code 2."""


def log(msg: str) -> None:
    print(f"[quantize] {msg}", file=sys.stderr, flush=True)


def fold_weights(src: str, dst: str) -> None:
    """Constant-folds the graph with onnxruntime's basic (standard-operator only) optimizer.

    export.py exports without constant folding, so every Linear weight reaches its MatMul through a
    Transpose; the quantizer only quantizes a MatMul whose B is an initializer (MatMulConstBOnly), so
    without this step it would quantize nothing."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    so.optimized_model_filepath = dst
    ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def op_counts(path: str) -> collections.Counter:
    import onnx

    return collections.Counter(n.op_type for n in onnx.load(path, load_external_data=False).graph.node)


def quantize_int8(src: str, dst: str, ops=DEFAULT_OPS, per_channel: bool = False) -> dict:
    """Writes the int8 model to dst; returns the operator counts that show what was and was not quantized."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    before = op_counts(src)
    # The quantizer warns that the model was not pre-processed: fold_weights is that step (its shape
    # inference part is not needed for dynamic quantization).
    logging.getLogger().setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="quantize-") as tmp:
        folded = os.path.join(tmp, "folded.onnx")
        fold_weights(src, folded)
        # MatMulConstBOnly: the attention products (activation × activation) stay fp32; only weights are int8.
        quantize_dynamic(folded, dst, op_types_to_quantize=list(ops), per_channel=per_channel, weight_type=QuantType.QInt8,
                         extra_options={"MatMulConstBOnly": True})
    after = op_counts(dst)
    quantized = after["MatMulInteger"] + after["ConvInteger"]
    if not quantized:
        raise QuantizeError(f"{src}: no {'/'.join(ops)} with constant weights found, nothing was quantized")
    for op in KEEP_FP32:
        if after[op] != before[op]:
            raise QuantizeError(f"{src}: quantization changed the {op} nodes ({before[op]} → {after[op]}); they must stay fp32")
    return {"quantized": quantized, "fp32MatMul": after["MatMul"], **{op: after[op] for op in KEEP_FP32}}


def softmax(z):
    import numpy as np

    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def fixture_parity(src_dir: str, out_dir: str, model: str) -> list:
    """Runs the int8 model on the fp32 fixture's input, writes its outputs as the int8 fixture and returns
    (output, top-1 agreement, largest probability difference) per classification output."""
    import numpy as np
    import onnxruntime as ort

    spec_path = os.path.join(src_dir, "parity.json")
    if not os.path.exists(spec_path):
        return []
    with open(spec_path) as f:
        spec = json.load(f)
    x = np.fromfile(os.path.join(src_dir, spec["input"]["file"]), dtype="<f4").reshape(spec["input"]["shape"])
    sess = ort.InferenceSession(os.path.join(out_dir, model), providers=["CPUExecutionProvider"])
    names = list(spec["outputs"])
    got = dict(zip(names, sess.run(names, {spec["input"]["name"]: x})))
    os.makedirs(os.path.join(out_dir, os.path.dirname(spec["input"]["file"])), exist_ok=True)
    shutil.copyfile(os.path.join(src_dir, spec["input"]["file"]), os.path.join(out_dir, spec["input"]["file"]))
    rows = []
    for name, o in spec["outputs"].items():
        ref = np.fromfile(os.path.join(src_dir, o["file"]), dtype="<f4").reshape(o["shape"])
        got[name].astype("<f4").tofile(os.path.join(out_dir, o["file"]))
        if name.endswith("_logits"):
            agree = float((ref.argmax(-1) == got[name].argmax(-1)).mean())
            rows.append((name, agree, float(np.abs(softmax(ref) - softmax(got[name])).max())))
    shutil.copyfile(spec_path, os.path.join(out_dir, "parity.json"))
    return rows


def write_int8_dir(src_dir: str, out_dir: str, ops=DEFAULT_OPS, per_channel: bool = False) -> dict:
    """An int8 copy of the model directory src_dir at out_dir (replaced atomically)."""
    import onnxruntime as ort

    with open(os.path.join(src_dir, "model.json")) as f:
        m = json.load(f)
    if m.get("precision", "fp32") != "fp32":
        raise QuantizeError(f"{src_dir} is {m['precision']}: quantize the fp32 model")
    parent = os.path.dirname(os.path.abspath(out_dir))
    tmp = tempfile.mkdtemp(prefix=".quantize-", dir=parent)
    try:
        counts = quantize_int8(os.path.join(src_dir, m["model"]), os.path.join(tmp, m["model"]), ops, per_channel)
        # The int8 model is one file: fp32 external data (model.onnx.data) is not carried over.
        m["files"] = [f for f in m["files"] if f["path"] != m["model"] + ".data"]
        for f in m["files"]:
            if f["path"] != m["model"]:
                os.makedirs(os.path.dirname(os.path.join(tmp, f["path"])) or tmp, exist_ok=True)
                shutil.copyfile(os.path.join(src_dir, f["path"]), os.path.join(tmp, f["path"]))
        if m.get("priors"):
            shutil.copyfile(os.path.join(src_dir, m["priors"]["file"]), os.path.join(tmp, m["priors"]["file"]))
        parity = fixture_parity(src_dir, tmp, m["model"])
        m["name"] = m["name"] + "-int8"
        m["precision"] = "int8"
        how = f"{'/'.join(ops)} weights int8 {'per channel' if per_channel else 'per tensor'}, activations quantized at run time"
        desc = m.get("description", "").removesuffix(", fp32")
        m["description"] = f"{desc}, int8 ({how})" if desc else f"int8 ({how})"
        m["provenance"] = m["provenance"] + f"; quantized by models/pe-core/quantize.py, onnxruntime {ort.__version__} ({how})"
        # Quantized weights are no longer merge targets: `percept models merge` needs the fp32 model.
        m.pop("adaptable", None)
        for f in m["files"]:
            p = os.path.join(tmp, f["path"])
            f["sha256"], f["bytes"] = sha256(p), os.path.getsize(p)
        with open(os.path.join(tmp, "model.json"), "w") as f:
            json.dump(m, f, indent=2)
            f.write("\n")
        world_readable(tmp)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"int8: {counts['quantized']} {'/'.join(ops)} quantized, {counts['fp32MatMul']} activation×activation MatMul, "
        f"{counts['LayerNormalization']} LayerNormalization and {counts['Softmax']} Softmax kept fp32; "
        f"{os.path.getsize(os.path.join(src_dir, m['model'])) / 1e6:.1f} MB → {os.path.getsize(os.path.join(out_dir, m['model'])) / 1e6:.1f} MB")
    for name, agree, dp in parity:
        log(f"int8 vs fp32 on the parity fixture: {name} top-1 agreement {agree * 100:.1f} %, max |Δp| {dp:.4f}")
    return {"counts": counts, "parity": parity}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", help="fp32 model directory (model.json + model)")
    p.add_argument("out", help="int8 model directory to write")
    p.add_argument("--ops", default=",".join(DEFAULT_OPS), help="operator types whose weights become int8 (MatMul,Gemm[,Conv])")
    p.add_argument("--per-channel", action="store_true", help="one scale per output channel instead of per tensor")
    a = p.parse_args(argv)
    ops = tuple(o for o in a.ops.split(",") if o)
    unknown = [o for o in ops if o not in ("MatMul", "Gemm", "Conv")]
    if unknown:
        p.error(f"--ops {','.join(unknown)}: only MatMul, Gemm and Conv are quantized here")
    if not os.path.exists(os.path.join(a.src, "model.json")):
        raise QuantizeError(f"{a.src} has no model.json (not a model directory)")
    write_int8_dir(a.src, a.out, ops, a.per_channel)


if __name__ == "__main__":
    try:
        main()
    except QuantizeError as e:
        print(f"quantize.py: {e}", file=sys.stderr)
        sys.exit(2)
