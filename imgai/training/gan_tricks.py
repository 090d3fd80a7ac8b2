"""Data-efficient GAN training: DiffAugment, an exponential moving average of the generator, hinge loss.

    x_aug = diff_augment(x, gen)              # in every discriminator call, on real and fake alike
    ema = GeneratorEMA(G, decay=0.999); ...; ema.update(G, step)

DiffAugment (Zhao, Liu, Lin, Zhu & Han, "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020): the discriminator only ever sees augmented images, real and generated alike, in the D step
and in the G step, so it cannot memorise the few thousand training images, and G's gradient flows back
through the augmentation (translation and cutout are differentiable in the pixels). The random draws come
from the run's own torch.Generator, so a seeded run is repeatable.
"""
import copy

import torch
import torch.nn.functional as F


def translate(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ratio × its size in x and y, filling with zeros (the paper's 1/8)."""
    B, C, H, W = x.shape
    sh, sw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (B, 1, 1), generator=gen).to(x.device)
    tx = torch.randint(-sw, sw + 1, (B, 1, 1), generator=gen).to(x.device)
    rows = torch.arange(H, device=x.device).view(1, H, 1)
    cols = torch.arange(W, device=x.device).view(1, 1, W)
    # pad by one ring of zeros; an index pushed outside the image lands on that ring
    r = (rows + ty + 1).clamp(0, H + 1)                                 # (B, H, 1)
    c = (cols + tx + 1).clamp(0, W + 1)                                 # (B, 1, W)
    b = torch.arange(B, device=x.device).view(B, 1, 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)                 # (B, H+2, W+2, C)
    return padded[b, r, c].permute(0, 3, 1, 2)                          # (B, C, H, W)


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ratio × the image size (the paper's 1/2) at a random place in each image."""
    B, C, H, W = x.shape
    ch, cw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    top = torch.randint(0, H + (1 - ch % 2), (B, 1, 1), generator=gen).to(x.device) - ch // 2
    left = torch.randint(0, W + (1 - cw % 2), (B, 1, 1), generator=gen).to(x.device) - cw // 2
    rows = torch.arange(H, device=x.device).view(1, H, 1)
    cols = torch.arange(W, device=x.device).view(1, 1, W)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)   # (B, H, W)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """DiffAugment's 'translation,cutout' policy, fresh random draws for every call."""
    return cutout(translate(x, gen), gen)


class GeneratorEMA:
    """A copy of the generator whose weights follow the trained one's slowly (Karras et al. 2018, Yazıcı et
    al. 2019): samples from the average are smoother than from any single step of the adversarial game.
    Batch-norm running statistics are averaged the same way, so the copy's eval-mode output is consistent.

    The decay warms up as min(decay, (1 + t) / (10 + t)) (TensorFlow's ExponentialMovingAverage with
    num_updates): at step t the average spans about the last t/10 .. 1/(1-decay) steps, so a one-minute run
    is not dominated by its random initialisation."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.999):
        self.decay = decay
        self.model = copy.deepcopy(model).requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int):
        d = min(self.decay, (1 + step) / (10 + step))
        for avg, cur in zip(self.model.state_dict().values(), model.state_dict().values()):
            if avg.dtype.is_floating_point:
                avg.lerp_(cur, 1 - d)
            else:
                avg.copy_(cur)  # counters such as batch norm's num_batches_tracked


def d_loss(loss: str, d_real: torch.Tensor, d_fake: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """The discriminator's loss on logits. bce: the tutorial's cross-entropy (real target 1 - smoothing);
    hinge: max(0, 1 - D(x)) + max(0, 1 + D(G(z))) (Lim & Ye 2017; Miyato et al. 2018)."""
    if loss == "hinge":
        return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
    bce = F.binary_cross_entropy_with_logits
    return bce(d_real, torch.full_like(d_real, real_target)) + bce(d_fake, torch.zeros_like(d_fake))


def g_loss(loss: str, d_gen: torch.Tensor) -> torch.Tensor:
    """The generator's loss: non-saturating cross-entropy (Goodfellow et al.), or -D(G(z)) with hinge."""
    if loss == "hinge":
        return -d_gen.mean()
    return F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))


def class_balance_loss(class_logits: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """KL(batch's mean predicted class distribution || the training set's class shares): 0 when a batch of
    fakes spreads over the classes as the real images do, large when it favours a few (the marginal-entropy
    term of CatGAN, Springenberg 2016, against the data's own prior rather than a uniform one). For the
    generator of a class-aware D (DCGANConfig.d_classes), whose class head names the classes."""
    mean = F.softmax(class_logits, 1).mean(0)
    return (mean * (mean.clamp_min(1e-8).log() - prior.clamp_min(1e-8).log())).sum()
