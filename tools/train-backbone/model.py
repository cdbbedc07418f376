"""The compact CNN behind the default backbone, and its inference form (batch norm folded)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# (in, out, stride) per 3x3 conv; 32x32 -> 4x4 after three stride-2 stages. Striding the first conv
# halves training cost on 2 cores (MNIST-sized strokes stay 2-3 px wide); the widths keep the int8 file
# near 300 KB, a tenth of MobileNetV2 int8.
LAYERS = [(1, 32, 2), (32, 64, 1), (64, 64, 2), (64, 128, 1), (128, 128, 2)]
FEATURE_DIM = 128


class GlyphNet(nn.Module):
    def __init__(self, n_classes, feature_dim=FEATURE_DIM):
        super().__init__()
        blocks = []
        for cin, cout, stride in LAYERS:
            blocks += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*blocks)
        self.embed = nn.Linear(LAYERS[-1][1], feature_dim, bias=False)
        self.embed_bn = nn.BatchNorm1d(feature_dim)
        # Cosine classifier: class prototypes compared by angle, so the embedding learns to make
        # classes separable by direction, which is what nearest-class-mean on new classes relies on.
        self.prototypes = nn.Parameter(torch.randn(n_classes, feature_dim) * 0.01)

    def features(self, x):
        x = self.body(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.embed_bn(self.embed(x))

    def cosine_logits(self, feats):
        return F.normalize(feats, dim=1) @ F.normalize(self.prototypes, dim=1).t()


def fold_bn(weight, bias, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = weight * scale.reshape(-1, *([1] * (weight.dim() - 1)))
    b = (bias if bias is not None else torch.zeros_like(bn.running_mean)) - bn.running_mean
    return w, b * scale + bn.bias


class InferenceNet(nn.Module):
    """Same function as GlyphNet.features, with every batch norm folded into the preceding weights."""

    def __init__(self, net):
        super().__init__()
        layers = []
        mods = list(net.body)
        for i in range(0, len(mods), 3):
            conv, bn = mods[i], mods[i + 1]
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, 3, conv.stride, 1, bias=True)
            w, b = fold_bn(conv.weight.detach(), None, bn)
            fused.weight.data.copy_(w)
            fused.bias.data.copy_(b)
            layers += [fused, nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.embed = nn.Linear(net.embed.in_features, net.embed.out_features, bias=True)
        w, b = fold_bn(net.embed.weight.detach(), None, net.embed_bn)
        self.embed.weight.data.copy_(w)
        self.embed.bias.data.copy_(b)

    def forward(self, x):
        return self.embed(torch.flatten(self.pool(self.body(x)), 1))
