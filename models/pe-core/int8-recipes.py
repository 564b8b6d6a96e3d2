#!/usr/bin/env python3
"""Which int8 recipe makes a PE model fastest on this CPU, and how far any recipe could go: the record of
issue 23's search for int8 ≥ 2× fp32 on the tiny PE, kept so that it can be re-run on another machine.

    int8-recipes.py FP32_DIR [--threads 1] [--rounds 12] [--repeat 3] [--only weights,attention]

FP32_DIR is an export.py output (model.json + model.onnx). Every recipe quantizes that model's graph
(folded as quantize.py folds it) into a temporary directory; then all models are timed in interleaved
rounds (load from elsewhere falls on every recipe alike), CPU time of the process per face being the
figure (steadier than wall time on a shared machine; threads do not spin). Printed: the median per
recipe over --repeat passes, its speed-up over fp32, the 1-minute load average of each pass, and the
share of fp32's time each kind of operator takes (onnxruntime's profiler), which bounds what int8 can
reach when only MatMul/Gemm change: fp32 time / the time of what int8 leaves in fp32.

Only "weights" keeps quantize.py's rule (softmax input and output and the attention products fp32); the
others are here to be measured, not shipped: "attention" and "av" also quantize the activation ×
activation products (post-softmax probabilities to uint8 at run time: unverifiable without real
transformer weights), "static" and "static-qdq" calibrate on the parity fixture's input, and onnxruntime
then also fuses the softmax between two quantized products into QLinearSoftmax (an int8 softmax).
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import re
import sys
import tempfile
import time

from quantize import fold_weights, op_counts


def fixture_input(src_dir: str):
    import numpy as np

    with open(os.path.join(src_dir, "parity.json")) as f:
        spec = json.load(f)
    x = np.fromfile(os.path.join(src_dir, spec["input"]["file"]), dtype="<f4").reshape(spec["input"]["shape"])
    return spec["input"]["name"], x


def recipes(folded: str, src_dir: str) -> dict:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

    name, x = fixture_input(src_dir)
    qk = [n.name for n in onnx.load(folded, load_external_data=False).graph.node if n.op_type == "MatMul" and n.name.endswith("attn/MatMul")]

    class Fixture(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{name: x[i : i + 1]} for i in range(x.shape[0])])

        def get_next(self):
            return next(self.it, None)

    def dyn(**kw):
        extra = {"MatMulConstBOnly": kw.pop("const_b", True)}
        return lambda o: quantize_dynamic(folded, o, op_types_to_quantize=["MatMul", "Gemm"], weight_type=kw.pop("wt", QuantType.QInt8), extra_options=extra, **kw)

    def static(fmt):
        return lambda o: quantize_static(folded, o, Fixture(), quant_format=fmt, op_types_to_quantize=["MatMul", "Gemm"],
                                         activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)

    def nbits(o):
        from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

        q = MatMulNBitsQuantizer(onnx.load(folded), algo_config=DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4, bits=8))
        q.process()
        q.model.save_model_to_file(o)

    return {
        "weights": ("MatMul/Gemm weights int8 per tensor, dynamic (what quantize.py ships)", dyn()),
        "per-channel": ("as weights, one scale per output channel", dyn(per_channel=True)),
        "reduce-range": ("as weights, 7-bit weights (reduce_range)", dyn(reduce_range=True)),
        "uint8-weights": ("as weights, uint8 weights", dyn(wt=QuantType.QUInt8)),
        "attention": ("weights + both attention products (Q·Kᵀ, A·V) dynamic int8", dyn(const_b=False)),
        "av": ("weights + A·V only dynamic int8 (Q·Kᵀ fp32)", dyn(const_b=False, nodes_to_exclude=qk)),
        "static": ("weights + activations static (QOperator, calibrated on the fixture)", static(QuantFormat.QOperator)),
        "static-qdq": ("weights + activations static (QDQ, calibrated on the fixture)", static(QuantFormat.QDQ)),
        "nbits8": ("MatMulNBits 8-bit blockwise weights, int8 compute (accuracy_level 4)", nbits),
    }


def session(path: str, threads: int, profile: bool = False):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if profile:
        so.enable_profiling = True
        so.profile_file_prefix = os.path.join(os.path.dirname(path), "profile")
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def time_pass(paths: dict, feed: dict, threads: int, rounds: int) -> dict:
    """Median CPU ms per face of each model, rounds interleaved."""
    sessions = {k: session(p, threads) for k, p in paths.items()}
    cpu = collections.defaultdict(list)
    for s in sessions.values():
        s.run(None, feed)  # the first run builds the kernels
    for _ in range(rounds):
        for k, s in sessions.items():
            c = time.process_time()
            s.run(None, feed)
            cpu[k].append((time.process_time() - c) * 1000)
    return {k: sorted(v)[len(v) // 2] for k, v in cpu.items()}


def fp32_shares(path: str, feed: dict, threads: int) -> dict:
    """Share of fp32 kernel time per kind: weight MatMul/Gemm, the two attention products, the rest by op."""
    s = session(path, threads, profile=True)
    for _ in range(5):
        s.run(None, feed)
    prof = s.end_profiling()
    with open(prof) as f:
        events = json.load(f)
    os.remove(prof)
    by = collections.Counter()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        op, name = e["args"]["op_name"], e["name"]
        if re.search(r"attn/MatMul(_1)?_kernel_time$", name):
            kind = "attention products (MatMul)"
        elif op in ("MatMul", "FusedMatMul", "Gemm"):
            kind = "weight MatMul/Gemm"
        else:
            kind = op
        by[kind] += e["dur"]
    total = sum(by.values())
    return {k: v / total for k, v in by.most_common()}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", help="fp32 model directory written by export.py")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=12)
    p.add_argument("--repeat", type=int, default=3, help="passes; each pass builds new sessions, the median of the passes is printed")
    p.add_argument("--only", help="comma-separated recipes (default: all)")
    a = p.parse_args(argv)
    for need in ("model.json", "parity.json"):
        if not os.path.exists(os.path.join(a.src, need)):
            p.error(f"{a.src} has no {need}: give a directory written by export.py (its parity input is what is timed)")
    logging.getLogger().setLevel(logging.ERROR)
    with open(os.path.join(a.src, "model.json")) as f:
        model = os.path.join(a.src, json.load(f)["model"])
    name, x = fixture_input(a.src)
    feed = {name: x[:1]}
    with tempfile.TemporaryDirectory(prefix="int8-recipes-") as tmp:
        folded = os.path.join(tmp, "folded.onnx")
        fold_weights(model, folded)
        paths, what = {"fp32": model}, {"fp32": "as exported"}
        for key, (desc, make) in recipes(folded, a.src).items():
            if a.only and key not in a.only.split(","):
                continue
            out = os.path.join(tmp, f"{key}.onnx")
            make(out)
            c = op_counts(out)
            paths[key] = out
            what[key] = f"{desc}; Softmax {c['Softmax']}, LayerNorm {c['LayerNormalization']}, fp32 MatMul {c['MatMul']}"
        passes, loads = collections.defaultdict(list), []
        for _ in range(a.repeat):
            loads.append(os.getloadavg()[0])
            for k, ms in time_pass(paths, feed, a.threads, a.rounds).items():
                passes[k].append(ms)
        med = {k: sorted(v)[len(v) // 2] for k, v in passes.items()}
        print(f"CPU ms per face, {a.threads} thread(s), batch 1, median of {a.repeat} passes × {a.rounds} interleaved rounds; "
              f"1-min load average per pass: {', '.join(f'{v:.1f}' for v in loads)} on {os.cpu_count()} cores")
        for k in paths:
            print(f"  {k:14s} {med[k]:7.1f} ms  ×{med['fp32'] / med[k]:.2f}  (passes {', '.join(f'{v:.1f}' for v in passes[k])})  {what[k]}")
        shares = fp32_shares(model, feed, a.threads)
        print("fp32 kernel time by kind (onnxruntime profiler): " + ", ".join(f"{k} {v * 100:.1f} %" for k, v in list(shares.items())[:10]))
        w = shares.get("weight MatMul/Gemm", 0)
        att = shares.get("attention products (MatMul)", 0)
        print(f"ceiling if int8 made those free: weight MatMul/Gemm only ×{1 / (1 - w):.2f}; with the attention products too ×{1 / (1 - w - att):.2f}")


if __name__ == "__main__":
    sys.exit(main())
