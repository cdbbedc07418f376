"""Render the glyph dataset the default backbone is trained on.

Each class is one Unicode letter; its examples are the same letter drawn by several Debian fonts and
weights. Images are white strokes on black, framed like MNIST (the glyph fitted into a 20x20 box and
centred by mass in 28x28), stored at 2x (56x56) so augmentation can thin or thicken strokes before the
final downsampling to the model size.

Usage: python3 render.py OUT.npz [--seed 1] [--codepoints LIST.txt]

--codepoints writes the chosen classes, one per line: "U+XXXX<TAB>script pool<TAB>train|heldout". The
repository keeps that list for the shipped model (models/engram-glyph.codepoints.txt), so anyone can check which
characters it was trained on without rendering.
"""
import argparse
import os
import unicodedata

import numpy as np
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = ["/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype/dejavu"]

# Weights and widths per family: enough stroke and proportion variety without rendering 1800 files.
STYLES = {"Regular", "Thin", "Light", "Medium", "Bold", "Black", "Condensed", "ExtraCondensedBold",
          "SemiCondensedLight", "Italic", "BoldItalic", "Oblique", "BoldOblique"}

# Families whose letters are not handwriting-like shapes (notation, pictographs) or are number systems.
SKIP_FAMILIES = {"NotoMusic", "NotoSansMath", "NotoSansSymbols", "NotoSansSymbols2", "NotoSansMayanNumerals",
                 "NotoSansIndicSiyaqNumbers", "NotoSansSignWriting", "DejaVuMathTeXGyre",
                 "NotoSansEgyptianHieroglyphs", "NotoSansAnatolianHieroglyphs", "NotoSansCuneiform"}

# Latin, Greek and Cyrillic letters that are commonly written like a digit (O/0, l/1, Z/2, S/5, b/6, q/9...).
# Their accented forms are excluded too, through the NFKD base letter.
DIGIT_LIKE = set("OoQDIlJjiZzSsBbGgqTtAУуЗзОоБбЧчΟοΙιΖζΒβΣσςθϑ")

SCALE = 2            # render at 2x the 28x28 MNIST frame
FRAME = 28 * SCALE   # 56
BOX = 20 * SCALE     # 40
RENDER_PX = 96       # font size for the first rendering, before fitting into BOX


def family_and_style(filename):
    stem = os.path.splitext(filename)[0]
    if "-" in stem:
        fam, style = stem.split("-", 1)
    else:
        fam, style = stem, "Regular"
    return fam, style


def script_key(family):
    """Families that differ only in design (Sans/Serif/Kufi...) share one script pool."""
    for prefix in ("NotoSans", "NotoSerif", "NotoKufi", "NotoNaskh", "NotoNastaliq", "NotoRashi", "NotoLooped",
                   "NotoTraditional", "DejaVuSansMono", "DejaVuSansCondensed", "DejaVuSerifCondensed",
                   "DejaVuSans", "DejaVuSerif"):
        if family.startswith(prefix):
            rest = family[len(prefix):]
            for suffix in ("Display", "Mono", "Unjoined", "UI", "Slanted", "Supplement"):
                rest = rest.replace(suffix, "")
            return rest or "Latin"
    return family


def is_allowed_letter(cp):
    ch = chr(cp)
    cat = unicodedata.category(ch)
    if not cat.startswith("L") or cat == "Lm":
        return False          # letters only: every N* (Nd digits, Nl, No) and all symbols stay out
    base = unicodedata.normalize("NFKD", ch)[:1]
    if ch in DIGIT_LIKE or base in DIGIT_LIKE:
        return False
    if unicodedata.category(base).startswith("N"):
        return False          # e.g. letters that decompose to a digit
    return True


def check_no_numbers(codepoints):
    """Digits are the benchmark's test classes: no number character may be a training or held-out class.

    Checks each character and every character of its compatibility decomposition (a Roman numeral is a number
    that decomposes to letters, a letter may decompose to a digit), so a change to the filters above cannot
    let one through.
    An explicit raise rather than assert, which python -O would remove.
    """
    numbers = [cp for cp in codepoints
               if any(unicodedata.category(c).startswith("N") for c in chr(cp) + unicodedata.normalize("NFKD", chr(cp)))]
    if numbers:
        listed = ", ".join(f"U+{cp:04X} ({unicodedata.category(chr(cp))})" for cp in numbers[:10])
        raise SystemExit(f"render.py: {len(numbers)} chosen classes are Unicode numbers (category N*): {listed}")


def write_codepoints(path, classes, heldout):
    with open(path, "w", encoding="ascii") as f:
        f.write("# engram-glyph classes: codepoint, script pool, split (written by tools/train-backbone/render.py)\n")
        for (cp, key), held in zip(classes, heldout):
            f.write(f"U+{cp:04X}\t{key}\t{'heldout' if held else 'train'}\n")


def list_fonts():
    fonts = []
    for d in FONT_DIRS:
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith(".ttf"):
                continue
            fam, style = family_and_style(f)
            if fam in SKIP_FAMILIES or style not in STYLES:
                continue
            fonts.append((os.path.join(d, f), fam, style))
    return fonts


def render_glyph(font, ch):
    """White-on-black glyph fitted into BOX and centred by mass in FRAME x FRAME, or None if blank."""
    canvas = Image.new("L", (RENDER_PX * 3, RENDER_PX * 3), 0)
    ImageDraw.Draw(canvas).text((RENDER_PX, RENDER_PX), ch, fill=255, font=font)
    bbox = canvas.getbbox()
    if bbox is None:
        return None
    glyph = canvas.crop(bbox)
    w, h = glyph.size
    if max(w, h) < 8:
        return None           # dots and hairlines carry no shape
    s = BOX / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    glyph = np.asarray(glyph.resize((nw, nh), Image.LANCZOS), dtype=np.float32)
    glyph = np.clip(glyph, 0, 255)
    if glyph.sum() < 255 * 20:
        return None
    ys, xs = np.mgrid[0:nh, 0:nw]
    cy = (glyph * ys).sum() / glyph.sum()
    cx = (glyph * xs).sum() / glyph.sum()
    out = np.zeros((FRAME, FRAME), np.float32)
    oy = int(round(FRAME / 2 - cy))
    ox = int(round(FRAME / 2 - cx))
    y0, x0 = max(0, oy), max(0, ox)
    y1, x1 = min(FRAME, oy + nh), min(FRAME, ox + nw)
    out[y0:y1, x0:x1] = glyph[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return out.astype(np.uint8)


def thumb(img):
    """Coarse, normalised view of a glyph for near-duplicate detection."""
    t = np.asarray(Image.fromarray(img).resize((14, 14), Image.BILINEAR), np.float32).ravel()
    t -= t.mean()
    return t / (np.linalg.norm(t) + 1e-6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-script", type=int, default=40, help="max classes drawn from one script pool")
    ap.add_argument("--latin-pool", type=int, default=160, help="max classes from the Latin/Greek/Cyrillic pool")
    ap.add_argument("--renders", type=int, default=8, help="max font/style renderings per class")
    ap.add_argument("--heldout", type=float, default=0.1, help="share of classes kept out of training")
    ap.add_argument("--dup-cos", type=float, default=0.93, help="drop a class this similar to a kept one")
    ap.add_argument("--codepoints", help="also write the chosen classes to this text file")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    fonts = list_fonts()
    cmaps = {}
    for path, fam, style in fonts:
        cmaps[path] = set(TTFont(path, lazy=True).getBestCmap().keys())
    pools = {}
    for path, fam, style in fonts:
        pools.setdefault(script_key(fam), set()).update(cp for cp in cmaps[path] if is_allowed_letter(cp))

    # Draw the classes script by script, so small scripts are not drowned by Latin.
    chosen = []
    seen = set()
    for key in sorted(pools):
        cps = sorted(pools[key] - seen)
        cap = args.latin_pool if key == "Latin" else args.per_script
        if len(cps) > cap:
            cps = sorted(rng.choice(cps, size=cap, replace=False).tolist())
        chosen += [(cp, key) for cp in cps]
        seen.update(cps)

    # Printed digits, to drop any letter of any script that looks like one.
    digit_font = ImageFont.truetype(os.path.join(FONT_DIRS[1], "DejaVuSans.ttf"), RENDER_PX)
    digit_thumbs = np.stack([thumb(render_glyph(digit_font, str(d))) for d in range(10)])

    font_cache = {}

    def load(path):
        if path not in font_cache:
            font_cache[path] = ImageFont.truetype(path, RENDER_PX)
        return font_cache[path]

    images, labels, classes, keep_thumbs = [], [], [], []
    dropped = {"blank": 0, "digit_like": 0, "duplicate": 0}
    for cp, key in chosen:
        ch = chr(cp)
        paths = [p for p, _, _ in fonts if cp in cmaps[p]]
        order = rng.permutation(len(paths))[: args.renders]
        renders = []
        for i in order:
            img = render_glyph(load(paths[i]), ch)
            if img is not None:
                renders.append(img)
        if len(renders) == 0:
            dropped["blank"] += 1
            continue
        t = thumb(np.mean(renders, axis=0).astype(np.uint8))
        if (digit_thumbs @ t).max() > 0.8:
            dropped["digit_like"] += 1
            continue
        if keep_thumbs and (np.stack(keep_thumbs) @ t).max() > args.dup_cos:
            dropped["duplicate"] += 1
            continue
        keep_thumbs.append(t)
        c = len(classes)
        classes.append((cp, key))
        images += renders
        labels += [c] * len(renders)

    check_no_numbers([cp for cp, _ in classes])
    n_classes = len(classes)
    heldout = np.zeros(n_classes, bool)
    heldout[rng.permutation(n_classes)[: int(round(n_classes * args.heldout))]] = True
    np.savez_compressed(
        args.out,
        images=np.stack(images), labels=np.array(labels, np.int32),
        codepoints=np.array([cp for cp, _ in classes], np.int32),
        scripts=np.array([k for _, k in classes]), heldout=heldout,
        fonts=np.array(sorted({os.path.basename(p) for p, _, _ in fonts})))
    if args.codepoints:
        write_codepoints(args.codepoints, classes, heldout)
    print(f"classes {n_classes} (held out {heldout.sum()}), images {len(images)}, "
          f"scripts {len(pools)}, fonts {len(fonts)}, dropped {dropped}")


if __name__ == "__main__":
    main()
