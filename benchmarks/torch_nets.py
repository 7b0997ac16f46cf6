"""The PyTorch nets that bench_step.py times against minigan's: the same layers, shapes and order.

    nets("dcgan28") / nets("dcgan64")   PyTorch's DCGAN example (nz=100, ngf=ndf=64), as minigan/models/dcgan.py
    nets("mlp2d")                        PacGAN's 2D nets, as minigan/models/mlp.py::mlp_points:

        G: z (N, 2, 1, 1) -> Flatten -> [Linear 400, BatchNorm1d, ReLU] x 4 -> Linear 2 -> (N, 2, 1, 1)
        D: x (N, 2, 1, 1) -> Flatten -> Maxout(., 200, pieces=5) x 3 -> Linear(200, 1) -> Sigmoid -> (N, 1)

PyTorch has no Maxout; :class:`Maxout` here is minigan's (minigan/nn/maxout.py) in
torch.nn: one ``Linear(in, out * pieces)``, whose rows ``o * pieces ... o * pieces +
pieces - 1`` are unit o's pieces. Only bench_step.py's PyTorch child imports this file
(it is on sys.path when the script runs), so no other process loads PyTorch.
"""
from __future__ import annotations

import torch
from torch import nn


class Maxout(nn.Module):
    """``(N, in_features) -> (N, out_features)``: each output the max of ``pieces`` linear pieces."""

    def __init__(self, in_features, out_features, pieces):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)     # weight (out * pieces, in), as minigan's

    def forward(self, x):
        N = x.shape[0]
        u = self.linear(x).view(N, self.out_features, self.pieces)      # (N, out, pieces): minigan's reshape
        return u.max(dim=2).values                                      # (N, out)


def nets(arch):
    """``(G, D)`` of ``arch`` ("dcgan28", "dcgan64", "mlp2d") on the CPU; move them with ``.to(device)``."""
    if arch == "mlp2d":
        return mlp_points()
    return dcgan(arch)


def dcgan(arch, nz=100, ngf=64, ndf=64):
    """PyTorch's DCGAN example's G and D: dcgan28 for 1x28x28 pictures, dcgan64 for 3x64x64."""
    if arch == "dcgan28":
        nc = 1
        G = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False), nn.Tanh())
        D = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False), nn.Sigmoid())
        return G, D
    nc = 3
    G = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    return G, D


def mlp_points(nz=2, width=400, d_width=200, pieces=5, std=0.02):
    """PacGAN's G and D for 2D points, initialized as minigan's: weights N(0, std^2), biases 0, gamma N(1, std^2)."""
    def hidden(n_in):                                                   # G's block: Linear -> BatchNorm1d -> ReLU
        return [nn.Linear(n_in, width), nn.BatchNorm1d(width), nn.ReLU(True)]
    G = nn.Sequential(
        nn.Flatten(),                                                   # (N, nz, 1, 1) -> (N, nz)
        *hidden(nz), *hidden(width), *hidden(width), *hidden(width),    # -> (N, 400)
        nn.Linear(width, 2), nn.Unflatten(1, (2, 1, 1)))                # -> (N, 2) -> (N, 2, 1, 1)
    D = nn.Sequential(
        nn.Flatten(),                                                   # (N, 2, 1, 1) -> (N, 2)
        Maxout(2, d_width, pieces), Maxout(d_width, d_width, pieces), Maxout(d_width, d_width, pieces),
        nn.Linear(d_width, 1), nn.Sigmoid())                            # -> (N, 1)
    with torch.no_grad():
        for m in [*G.modules(), *D.modules()]:
            if isinstance(m, nn.BatchNorm1d):
                m.weight.normal_(1.0, std), m.bias.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.normal_(0.0, std), m.bias.zero_()
    return G, D
