"""Batched glyph augmentation in torch: stroke width, affine and elastic jitter, blur, contrast, noise.

Input: uint8 glyphs [B, 56, 56] (2x the 28x28 MNIST frame). Output: float [B, 1, 32, 32] in [0, 1].
"""
import torch
import torch.nn.functional as F

OUT = 32


def _stroke(x, g):
    """Per image: erode, keep, dilate once or dilate twice (at 2x resolution, ~0.5 px steps at 28x28)."""
    dil = F.max_pool2d(x, 3, 1, 1)
    dil2 = F.max_pool2d(dil, 3, 1, 1)
    ero = -F.max_pool2d(-x, 3, 1, 1)
    choice = torch.multinomial(torch.tensor([0.2, 0.35, 0.3, 0.15]), x.shape[0], True, generator=g)
    out = torch.where((choice == 0).view(-1, 1, 1, 1), ero, x)
    out = torch.where((choice == 2).view(-1, 1, 1, 1), dil, out)
    out = torch.where((choice == 3).view(-1, 1, 1, 1), dil2, out)
    # Thin fonts eroded to nothing fall back to the original strokes.
    empty = out.flatten(1).amax(1) < 0.2
    return torch.where(empty.view(-1, 1, 1, 1), x, out)


def _grid(b, g):
    """Random affine (rotation, anisotropic scale, shear, shift) plus a smooth elastic field."""
    u = lambda lo, hi: torch.rand(b, generator=g) * (hi - lo) + lo
    rot = u(-0.25, 0.25)                      # about +-14 degrees
    shear = u(-0.3, 0.3)
    sx, sy = u(0.8, 1.15), u(0.8, 1.15)
    tx, ty = u(-0.1, 0.1), u(-0.1, 0.1)
    c, s = torch.cos(rot), torch.sin(rot)
    # Maps output coordinates to input coordinates, so scale > 1 shrinks the glyph.
    a = torch.stack([torch.stack([c / sx, (-s + shear * c) / sx, tx], 1),
                     torch.stack([s / sy, (c + shear * s) / sy, ty], 1)], 1)
    grid = F.affine_grid(a, (b, 1, OUT, OUT), align_corners=False)
    field = torch.randn(b, 2, 4, 4, generator=g) * u(0, 0.06).view(-1, 1, 1, 1)
    field = F.interpolate(field, size=(OUT, OUT), mode="bicubic", align_corners=False)
    return grid + field.permute(0, 2, 3, 1)


def _blur_kernel(sigma):
    r = 2
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-(t[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    k = k / k.sum(1, keepdim=True)
    return k  # [B, 5]


def augment(glyphs, g):
    b = glyphs.shape[0]
    x = glyphs.float().unsqueeze(1) / 255.0
    x = _stroke(x, g)
    # Smooth before sampling 56 -> 32 so thin strokes do not alias away.
    x = F.avg_pool2d(F.pad(x, (1, 1, 1, 1)), 3, 1)
    x = F.grid_sample(x, _grid(b, g), mode="bilinear", padding_mode="zeros", align_corners=False)
    # Separable Gaussian blur with a per-image sigma (0.3 px is nearly identity).
    sigma = torch.rand(b, generator=g) * 0.9 + 0.3
    k = _blur_kernel(sigma)
    xp = F.pad(x, (2, 2, 2, 2)).transpose(0, 1)
    x = F.conv2d(xp, k.view(b, 1, 1, 5), groups=b)
    x = F.conv2d(x, k.view(b, 1, 5, 1), groups=b).transpose(0, 1)
    peak = x.flatten(1).amax(1).clamp_min(1e-3).view(-1, 1, 1, 1)
    gain = (torch.rand(b, generator=g) * 0.4 + 0.8).view(-1, 1, 1, 1)
    x = (x / peak * gain).clamp(0, 1)
    noise = torch.randn(x.shape, generator=g) * (torch.rand(b, generator=g) * 0.06).view(-1, 1, 1, 1)
    return (x + noise).clamp(0, 1)


def plain(glyphs):
    """Unaugmented view at model size (bilinear 56 -> 32, like the runtime's resize)."""
    x = glyphs.float().unsqueeze(1) / 255.0
    return F.interpolate(x, size=(OUT, OUT), mode="bilinear", align_corners=False, antialias=True)
