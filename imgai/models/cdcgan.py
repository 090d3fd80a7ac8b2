"""The class-conditional DCGAN ("draw me a 7"): the DCGAN's networks, told which class to draw or judge.

    gan = CDCGAN(conditional(GAN_PRESETS["fast"](channels=1, image_size=28), n_classes=10))
    x = gan.generator(torch.randn(16, gan.config.nz), torch.full((16,), 7))      # sixteen 7s

G: a learned label embedding is concatenated to the latent (Mirza & Osindero 2014), so the rest of G is
the DCGAN's. D: a projection discriminator (Miyato & Koyama 2018): D's "is it real?" logit plus the inner
product of its features with an embedding of the label, so D judges "is this a real 7?", not just "real?".
With aux_weight > 0, D also has a classification head on the same features (AC-GAN, Odena, Olah & Shlens
2017, with the head trained on real images only): D learns to name the digit of real images, and G is pushed
to make that head read the asked class (class_loss). The head is trained inside the run on the training
split; no outside classifier takes part.
"""
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from .dcgan import DCGANConfig, Discriminator, Generator, spectral


@dataclass
class CDCGANConfig(DCGANConfig):
    n_classes: int = 10      # the data set's classes
    embed: int = 16          # size of G's label embedding, concatenated to the nz latent numbers
    aux_weight: float = 0.0  # > 0: D's auxiliary class head and the weight of its cross-entropy in both losses


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
        embed.init_std = 0.02  # N(0, 1) would swamp the "real?" logit: a sum over n_flat terms (init_weights reads it)
        nn.init.normal_(embed.weight, std=embed.init_std)
        self.embed = spectral(embed, c.d_spectral_norm)
        self.classify = nn.Linear(self.n_flat, c.n_classes) if c.aux_weight > 0 else None  # AC-GAN's head

    def forward(self, x, y):  # x: (B, C, H, W), y: (B,) → logits (B, 1): "is this a real image of class y?"
        return self.judge(x, y)[0]

    def judge(self, x, y):
        """(the real/fake logits (B, 1), the class head's logits (B, n_classes) or None without a head),
        from one pass through D's body."""
        h = self.body(x)                                                    # (B, n_flat)
        logit = self.head(h) + (self.embed(y) * h).sum(1, keepdim=True)
        return logit, (self.classify(h) if self.classify is not None else None)


def class_loss(class_logits, y, weight: float) -> torch.Tensor | float:
    """The auxiliary head's share of a loss: weight × cross-entropy of its logits against the classes y
    (D's step: real images and their labels; G's step: the fakes and the classes they were asked to be)."""
    return weight * F.cross_entropy(class_logits, y) if class_logits is not None and weight > 0 else 0.0


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
