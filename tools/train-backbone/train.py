"""Train GlyphNet on the rendered glyphs with a cosine-margin head.

Usage: python3 train.py glyphs.npz checkpoint.pt [--steps N] [--seed 1]
Selection uses only held-out glyph classes (never MNIST): nearest-class-mean accuracy on them is printed.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

from augment import augment
from model import GlyphNet


def class_index(labels, n):
    """For each class, the row numbers of its renderings."""
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(n + 1))
    return [torch.from_numpy(order[starts[c]:starts[c + 1]]) for c in range(n)]


def ncm_accuracy(feats, labels, shots):
    """Cosine nearest-class-mean: first `shots` samples of each class are support, the rest queries."""
    feats = F.normalize(feats, dim=1)
    classes = labels.unique()
    means, qf, ql = [], [], []
    for i, c in enumerate(classes):
        f = feats[labels == c]
        means.append(F.normalize(f[:shots].mean(0), dim=0))
        qf.append(f[shots:])
        ql.append(torch.full((len(f) - shots,), i))
    pred = (torch.cat(qf) @ torch.stack(means).t()).argmax(1)
    return (pred == torch.cat(ql)).float().mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--scale", type=float, default=20.0, help="cosine logit scale")
    ap.add_argument("--margin", type=float, default=0.2, help="additive cosine margin on the true class")
    # One thread: bit-exact reruns (reduction order) and no OpenMP spinning when the cores are shared.
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # blurred near-zero pixels otherwise slow every conv down
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)

    d = np.load(args.data)
    images = torch.from_numpy(d["images"])
    labels = d["labels"]
    heldout = d["heldout"]
    train_classes = np.flatnonzero(~heldout)
    remap = -np.ones(len(heldout), np.int64)
    remap[train_classes] = np.arange(len(train_classes))
    per_class = class_index(labels, len(heldout))
    train_rows = [per_class[c] for c in train_classes]
    n_classes = len(train_classes)

    # Fixed validation set: 6 augmented views of every held-out class.
    vg = torch.Generator().manual_seed(args.seed + 1000)
    val_rows, val_labels = [], []
    for c in np.flatnonzero(heldout):
        rows = per_class[c]
        pick = rows[torch.randint(len(rows), (6,), generator=vg)]
        val_rows.append(pick)
        val_labels += [int(c)] * 6
    val_x = augment(images[torch.cat(val_rows)], vg)
    val_y = torch.tensor(val_labels)

    # Input statistics of augmented training images, rounded so the manifest can state them exactly.
    sample = augment(images[torch.randint(len(images), (2048,), generator=g)], g)
    mean = round(sample.mean().item(), 3)
    std = round(sample.std().item(), 3)
    print(f"classes {n_classes} train, {int(heldout.sum())} held out; input mean {mean} std {std}", flush=True)

    net = GlyphNet(n_classes)
    decay = [p for n, p in net.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in net.named_parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                            lr=args.lr)
    warm = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + np.cos(np.pi * (s - warm) / (args.steps - warm))))

    def evaluate():
        net.eval()
        with torch.no_grad():
            f = torch.cat([net.features((val_x[i:i + 512] - mean) / std) for i in range(0, len(val_x), 512)])
        net.train()
        return ncm_accuracy(f, val_y, 1), ncm_accuracy(f, val_y, 3)

    t0 = time.time()
    running = 0.0
    for step in range(args.steps):
        cls = torch.randint(n_classes, (args.batch,), generator=g)
        rows = torch.stack([train_rows[c][torch.randint(len(train_rows[c]), (1,), generator=g)][0] for c in cls])
        x = (augment(images[rows], g) - mean) / std
        cos = net.cosine_logits(net.features(x))
        logits = args.scale * (cos - args.margin * F.one_hot(cls, n_classes))
        loss = F.cross_entropy(logits, cls)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if (step + 1) % 50 == 0 or step + 1 == args.steps:
            msg = f"step {step + 1}/{args.steps} loss {running:.3f} {time.time() - t0:.0f}s"
            if (step + 1) % 500 == 0 or step + 1 == args.steps:
                a1, a3 = evaluate()
                msg += f" held-out NCM 1-shot {a1:.3f} 3-shot {a3:.3f}"
            print(msg, flush=True)

    net.eval()
    torch.save({"state": net.state_dict(), "n_classes": n_classes, "mean": mean, "std": std,
                "seed": args.seed, "steps": args.steps}, args.out)


if __name__ == "__main__":
    main()
