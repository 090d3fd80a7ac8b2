"""The GAN game's losses: the tutorial's non-saturating cross-entropy and the hinge loss, for D and for G, and
the class-aware D's balance term.

    loss_d = d_loss("bce", d_real, d_fake, real_target=0.9); loss_g = g_loss("bce", d_gen)
"""
import torch
import torch.nn.functional as F


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
