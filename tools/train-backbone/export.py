"""Export a trained checkpoint: fp32 ONNX, calibrated QDQ int8 ONNX, and held-out glyph images.

Usage: python3 export.py glyphs.npz checkpoint.pt OUT_DIR --name engram-glyph
Writes OUT_DIR/<name>-fp32.onnx, OUT_DIR/<name>.onnx, OUT_DIR/<name>.calib-images.f32 (raw [n,32,32] in
[0,1], held-out classes) and OUT_DIR/<name>.export.json (input statistics for the manifest).
"""
import argparse
import json
import os

import numpy as np
import torch

from augment import augment
from model import GlyphNet, InferenceNet
from quantize import quantize

CALIB_COUNT = 2000      # 2000 x 128 float32 = 1,024,000 bytes, inside the 1 MiB budget
RANGE_IMAGES = 4096     # augmented training glyphs used to calibrate activation ranges
RANGE_PERCENTILE = 99.99


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("checkpoint")
    ap.add_argument("out_dir")
    ap.add_argument("--name", default="engram-glyph")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)

    ck = torch.load(args.checkpoint)
    mean, std, seed = ck["mean"], ck["std"], ck["seed"]
    net = GlyphNet(ck["n_classes"])
    net.load_state_dict(ck["state"])
    net.eval()
    inf = InferenceNet(net).eval()

    d = np.load(args.data)
    images = torch.from_numpy(d["images"])
    labels = d["labels"]
    heldout = d["heldout"]
    g = torch.Generator().manual_seed(seed + 2000)

    # Activation ranges from augmented images of training classes.
    train_rows = torch.from_numpy(np.flatnonzero(~heldout[labels]))
    rows = train_rows[torch.randint(len(train_rows), (RANGE_IMAGES,), generator=g)]
    x = (augment(images[rows], g) - mean) / std

    with torch.no_grad():
        ref = net.features(x[:256])
        fused = inf(x[:256])
    err = (ref - fused).abs().max().item()
    assert err < 1e-3, f"folding batch norm changed the features by {err}"

    os.makedirs(args.out_dir, exist_ok=True)
    fp32_path = os.path.join(args.out_dir, f"{args.name}-fp32.onnx")
    torch.onnx.export(inf, x[:1], fp32_path, input_names=["input"], output_names=["features"],
                      dynamic_axes={"input": {0: "batch"}, "features": {0: "batch"}}, opset_version=13,
                      do_constant_folding=True)

    # Record every tensor entering a conv / the pool / the embedding, in module order, then match them to
    # the exported graph's tensors in node order (the export keeps the module order).
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((i[0].detach(), o.detach())))
             for m in inf.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.AdaptiveAvgPool2d, torch.nn.Linear))]
    acts = []
    with torch.no_grad():
        for i in range(0, len(x), 512):
            seen.clear()
            inf(x[i:i + 512])
            acts.append(list(seen))
    for h in hooks:
        h.remove()

    import onnx
    graph = onnx.load(fp32_path).graph
    consumers = [n for n in graph.node if n.op_type in ("Conv", "GlobalAveragePool", "Gemm")]
    assert len(consumers) == len(acts[0]), "graph and module order differ"
    ranges = {}
    lo_in, hi_in = (0.0 - mean) / std, (1.0 - mean) / std
    for k, node in enumerate(consumers):
        vin = torch.cat([a[k][0].flatten() for a in acts])
        if k == 0:
            ranges[node.input[0]] = (lo_in, hi_in)   # the input range is known exactly
        else:
            ranges[node.input[0]] = (0.0, float(np.percentile(vin.numpy(), RANGE_PERCENTILE)))
        if node.op_type == "GlobalAveragePool":
            vout = torch.cat([a[k][1].flatten() for a in acts])
            ranges[node.output[0]] = (0.0, float(vout.max()))
    int8_path = os.path.join(args.out_dir, f"{args.name}.onnx")
    quantize(fp32_path, int8_path, ranges)

    # Held-out classes, augmented like training data, for the calibration feature sample.
    cg = torch.Generator().manual_seed(seed + 3000)
    held_rows = torch.from_numpy(np.flatnonzero(heldout[labels]))
    pick = held_rows[torch.randperm(len(held_rows), generator=cg)]
    pick = pick.repeat((CALIB_COUNT + len(pick) - 1) // len(pick))[:CALIB_COUNT]
    calib = augment(images[pick], cg)[:, 0].contiguous().numpy().astype("<f4")
    calib.tofile(os.path.join(args.out_dir, f"{args.name}.calib-images.f32"))

    info = {"mean": mean, "std": std, "seed": seed, "steps": ck["steps"], "train_classes": int((~heldout).sum()),
            "heldout_classes": int(heldout.sum()), "images": int(len(images)),
            "calib_classes": int(len(np.unique(labels[pick.numpy()]))), "calib_count": CALIB_COUNT,
            "fonts": len(d["fonts"]), "scripts": int(len(np.unique(d["scripts"])))}
    with open(os.path.join(args.out_dir, f"{args.name}.export.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info))


if __name__ == "__main__":
    main()
