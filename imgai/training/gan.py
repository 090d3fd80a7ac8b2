"""The GAN's training loop (DCGAN, or the class-conditional CDCGAN), a plain generator of flat metric dicts.

    for m in train_gan(gan, load_dataset("digits"), TrainConfig(epochs=1)): print(m["loss_d"], m["d_x"])

A metrics dict has "step", "epoch", "progress", "seconds", "images_per_s", "lr", "loss_d", "loss_g", "d_x"
and "d_g_z" (D's mean verdict on real and on generated images); a "samples" event carries a grid from fixed
noise every sample_every steps. The loop never prints, sleeps, saves or imports streamlit.
"""
import copy

import torch
import torch.nn.functional as F

from imgai.data.datasets import ImageData
from imgai.device import keep_freed_memory
from imgai.models import use_generator
from imgai.models.cdcgan import class_loss
from imgai.models.sampling import fixed_noise, grid_labels, sample_images
from imgai.training.augment import diff_augment
from imgai.training.averaging import GeneratorEMA
from imgai.training.config import TrainConfig, TrainState, make_optimizer
from imgai.training.gan_losses import class_balance_loss, d_loss, g_loss
from imgai.training.loop import Clock, check_finite, index_batches, planned_steps, progress_of


def _judge(D, x, y: tuple):
    """D's logits and, for a conditional D with a class head, its class logits (else None), in one pass."""
    return D.judge(x, *y) if hasattr(D, "judge") else (D(x, *y), None)


def train_gan(gan, data: ImageData, cfg: TrainConfig, device="cpu", state: TrainState | None = None):
    """Train a DCGAN, or a class-conditional one (CDCGAN: G and D also take the class), with the tutorial's
    non-saturating BCE losses or the hinge loss; yields losses, D(x) and D(G(z)) every log step, and a grid
    from fixed noise every sample_every steps.

    Data-efficient options (imgai.training.augment): cfg.diffaugment augments every image D sees, real and fake,
    in both steps; cfg.ema > 0 trains a private copy of the generator and keeps gan.generator as its moving
    average, so grids, the job's snapshots and saved checkpoints all show the averaged weights;
    cfg.d_lr_ratio gives D its own learning rate (TTUR)."""
    if cfg.gan_loss not in ("bce", "hinge"):
        raise ValueError(f"unknown GAN loss '{cfg.gan_loss}': choose bce or hinge")
    state = state or TrainState()
    keep_freed_memory()
    gen = torch.Generator().manual_seed(cfg.seed)
    use_generator(gan, gen)  # D's dropout draws from this run's generator, not the process-wide one
    aug_gen = torch.Generator().manual_seed(cfg.seed + 7919)  # DiffAugment's own draws: same seed, same run
    conditional = hasattr(gan.config, "n_classes")
    class_aware = not conditional and getattr(gan.config, "d_classes", 0) > 0
    G, D, c = gan.generator.to(device).train(), gan.discriminator.to(device).train(), gan.config
    ema = None
    if cfg.ema > 0:  # train a private copy; gan.generator becomes the average that everyone else sees
        G = copy.deepcopy(G)
        ema = GeneratorEMA(G, cfg.ema)
        gan.generator = ema.model
    sampler = gan.generator
    real_all, labels_all = data.train_x.to(device), data.train_y.to(device)
    if class_aware:
        class_prior = torch.bincount(labels_all, minlength=c.d_classes).float() / len(labels_all)
    lr = cfg.lr
    state.model, state.base_lr = gan, lr
    opt_d = make_optimizer(D.parameters(), cfg, lr * cfg.d_lr_ratio, cfg.beta1)
    for g in opt_d.param_groups:
        g["lr_scale"] = cfg.d_lr_ratio
    state.optimizers = [make_optimizer(G.parameters(), cfg, lr, cfg.beta1), opt_d]
    opt_g = state.optimizers[0]
    N, B = len(real_all), min(cfg.batch_size, len(real_all))
    steps_per_epoch = N // B
    total = planned_steps(cfg, steps_per_epoch)
    z_fixed = fixed_noise(c.nz, cfg.n_samples, cfg.seed, device)
    y_fixed = grid_labels(cfg.n_samples, c.n_classes, device) if conditional else None
    aug = (lambda x: diff_augment(x, aug_gen)) if cfg.diffaugment else (lambda x: x)
    aux = getattr(c, "aux_weight", 0.0)  # a conditional D's class head (imgai.models.cdcgan): its loss weight
    real_target = 1 - cfg.label_smoothing
    clock, step = Clock(), 0
    yield {"event": "samples", "step": 0, "images": sample_images(sampler, z_fixed, y_fixed)}
    for idx, lr in index_batches(cfg, state, N, B, gen, clock, total, device):
        real = real_all[idx].float() / 127.5 - 1
        z = torch.randn(B, c.nz, generator=gen).to(device)
        # a conditional pair: real images with their labels, fakes of uniformly drawn classes
        y_real = (labels_all[idx],) if conditional else ()
        y_fake = (torch.randint(0, c.n_classes, (B,), generator=gen).to(device),) if conditional else ()
        fake = G(z, *y_fake)
        # D learns to tell real from fake; fake is detached so this step leaves G alone
        if class_aware:  # a class-aware D also learns to name the real images' classes (DCGANConfig.d_classes)
            d_real, classes_real = D.real_and_classes(aug(real))
        else:
            d_real, cls_real = _judge(D, aug(real), y_real)
        d_fake = D(aug(fake.detach()), *y_fake)
        loss_d = d_loss(cfg.gan_loss, d_real, d_fake, real_target)
        if class_aware:
            loss_d = loss_d + F.cross_entropy(classes_real, labels_all[idx])
        elif aux:
            loss_d = loss_d + class_loss(cls_real, y_real[0], aux)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # G learns to make D say "real" (through the same augmentation, so its gradient is D's)
        if class_aware:  # and G spreads each batch over the classes as the training set does
            d_gen, classes_fake = D.real_and_classes(aug(fake))
            loss_g = g_loss(cfg.gan_loss, d_gen) + class_balance_loss(classes_fake, class_prior)
        else:
            d_gen, cls_gen = _judge(D, aug(fake), y_fake)
            loss_g = g_loss(cfg.gan_loss, d_gen) + (class_loss(cls_gen, y_fake[0], aux) if aux else 0)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        step += 1
        if ema is not None:
            ema.update(G, step)
        if step % cfg.log_every == 0 or step == 1:
            ld, lg = loss_d.item(), loss_g.item()
            check_finite("discriminator loss", ld, step, lr, cfg.optimizer, limit=1e3)
            check_finite("generator loss", lg, step, lr, cfg.optimizer, limit=1e3)
            secs = clock.pause()
            yield {"step": step, "epoch": step / steps_per_epoch, "progress": progress_of(cfg, step, total, secs),
                   "seconds": secs, "images_per_s": step * B / max(secs, 1e-9), "lr": lr,
                   "loss_d": ld, "loss_g": lg, "d_x": torch.sigmoid(d_real).mean().item(),
                   "d_g_z": torch.sigmoid(d_fake).mean().item()}
            clock.resume()
        if step % cfg.sample_every == 0:
            clock.pause()
            yield {"event": "samples", "step": step, "images": sample_images(sampler, z_fixed, y_fixed)}
            clock.resume()
    if step % cfg.sample_every != 0:
        yield {"event": "samples", "step": step, "images": sample_images(sampler, z_fixed, y_fixed)}
