"""The class-conditional DCGAN ("draw me a 7"): the DCGAN's networks, told which class to draw or judge.

    gan = CDCGAN(conditional(GAN_PRESETS["fast"](channels=1, image_size=28), n_classes=10))
    x = gan.generator(torch.randn(16, gan.config.nz), torch.full((16,), 7))      # sixteen 7s

G: a learned label embedding is concatenated to the latent (Mirza & Osindero 2014), so the rest of G is
the DCGAN's. D: a projection discriminator (Miyato & Koyama 2018): D's "is it real?" logit plus the inner
product of its features with an embedding of the label, so D judges "is this a real 7?", not just "real?".
"""
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn

from .dcgan import DCGANConfig, Discriminator, Generator, spectral


@dataclass
class CDCGANConfig(DCGANConfig):
    n_classes: int = 10      # the data set's classes
    embed: int = 16          # size of G's label embedding, concatenated to the nz latent numbers


class ConditionalGenerator(Generator):
    def __init__(self, c: CDCGANConfig):
        super().__init__(replace(DCGANConfig(**_base_fields(c)), nz=c.nz + c.embed))
        self.embed = nn.Embedding(c.n_classes, c.embed)

    def forward(self, z, y):  # z: (B, nz), y: (B,) class indices → images (B, C, H, W) in [-1, 1]
        return super().forward(torch.cat([z, self.embed(y)], 1))


class ProjectionDiscriminator(Discriminator):
    def __init__(self, c: CDCGANConfig):
        super().__init__(DCGANConfig(**_base_fields(c)))
        embed = nn.Embedding(c.n_classes, self.n_flat)
        nn.init.normal_(embed.weight, std=0.02)  # N(0, 1) would swamp the "real?" logit: a sum over n_flat terms
        self.embed = spectral(embed, c.d_spectral_norm)

    def forward(self, x, y):  # x: (B, C, H, W), y: (B,) → logits (B, 1): "is this a real image of class y?"
        h = self.body(x)                                                    # (B, n_flat)
        return self.head(h) + (self.embed(y) * h).sum(1, keepdim=True)


def _base_fields(c: CDCGANConfig) -> dict:
    return {k: v for k, v in asdict(c).items() if k in DCGANConfig.__dataclass_fields__}


class CDCGAN(nn.Module):
    """Both networks in one module, like DCGAN; generator(z, y) and discriminator(x, y) take class indices."""
    def __init__(self, config: CDCGANConfig):
        super().__init__()
        self.config = config
        self.generator = ConditionalGenerator(config)
        self.discriminator = ProjectionDiscriminator(config)


def conditional(base: DCGANConfig, n_classes: int, **kw) -> CDCGANConfig:
    """A DCGAN preset's config made class-conditional."""
    return CDCGANConfig(**{**asdict(base), **kw}, n_classes=n_classes)


class FixedClass(nn.Module):
    """A conditional generator drawing one class: forward(z) = G(z, label), so every latent-space tool written
    for an unconditional generator (interpolation, directions, steering, sampling) works on it unchanged."""
    def __init__(self, generator: ConditionalGenerator, label: int):
        super().__init__()
        self.generator, self.label = generator, int(label)

    def forward(self, z):
        return self.generator(z, torch.full((z.shape[0],), self.label, dtype=torch.long, device=z.device))
