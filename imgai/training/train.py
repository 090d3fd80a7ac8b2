"""Training loops as plain generators: they yield flat dicts of floats, and now and then a sample grid.

    for m in train_classifier(model, load_dataset("digits"), TrainConfig(epochs=1)): print(m)

A metrics dict has "step", "epoch", "progress" (0..1), "seconds" (active training time), "images_per_s",
"lr" and "loss"/"acc" (classifier) or "loss_d"/"loss_g"/"d_x"/"d_g_z" (GAN); epoch ends add "val_acc".
An event dict has an "event" key: "samples" carries "images" (uint8 N,H,W,C) and, for classifiers,
"pred"/"true" label indices; "confusion" carries the validation confusion matrix; "hint" carries "text",
one line saying that a classifier stalled at chance level and what to change.
The loops never print, sleep, save or import streamlit: the CLI, the job runner and tests consume them.
"""
import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from imgai.data.datasets import ImageData, normalize
from imgai.device import keep_freed_memory
from imgai.inference.tta import n_views, tta_logits
from imgai.models.whitening import fit_whitening
from imgai.training.cnn_tricks import Lookahead, alternating_flip, param_groups
from imgai.training.gan_tricks import GeneratorEMA, class_balance_loss, d_loss, diff_augment, g_loss
from imgai.models import use_generator
from imgai.models.cdcgan import class_loss


@dataclass
class TrainConfig:
    epochs: float | None = 5         # passes over the training set; ignored when seconds is set
    seconds: float | None = None     # a time budget in seconds of training (pauses do not count)
    batch_size: int = 128
    lr: float = 2e-3                 # peak learning rate (the schedule scales it)
    optimizer: str = "adam"          # adam | sgd (Nesterov momentum, see momentum) | rmsprop
    momentum: float = 0.9            # sgd's momentum (airbench's 0.85)
    weight_decay: float = 0.0        # L2 penalty: a remedy for overfitting
    augment: bool = True             # train on randomly moved copies of the images (see augment_style)
    augment_style: str = "warp"      # warp: shifts, small rotations and zooms (+ mirror, except digits) |
                                     # crop: mirror + random crop of a 4-px padded image, the usual CIFAR recipe |
                                     # flip-translate: alternating mirror (imgai.training.cnn_tricks) + 2-px
                                     # random crop of a reflect-padded image (airbench)
    schedule: str = "onecycle"       # onecycle: warm up 10%, then decay linearly to 0 | constant |
                                     # triangle: 0.2 → 1 over 23%, then linearly to 0.07 (airbench)
    seed: int = 0
    log_every: int = 1               # metrics every N steps (each costs a device sync on CUDA)
    sample_every: int = 100          # GAN: a fixed-noise grid every N steps
    n_samples: int = 36              # images in a sample grid
    beta1: float = 0.9               # Adam's momentum; the DCGAN paper lowers it to 0.5 for GANs
    label_smoothing: float = 0.0     # GAN: D's target for real images is 1 - s (Salimans et al. 2016), bce only;
                                     # classifier: the true class's target is 1 - s (Szegedy et al. 2016)
    gan_loss: str = "bce"            # GAN: bce (the tutorial's) | hinge (pair it with D's spectral norm)
    diffaugment: bool = False        # GAN: translation + cutout on every image D sees (Zhao et al. 2020)
    ema: float = 0.0                 # GAN: decay of the generator's weight average used for samples; 0 = none
    d_lr_ratio: float = 1.0          # GAN: D's learning rate = lr x this (TTUR, Heusel et al. 2017); 1 = same
    bn_bias_lr_scale: float = 1.0    # classifier: batch-norm biases learn this many times faster (airbench: 64)
    lookahead: bool = False          # classifier: a lookahead average of the weights (imgai.training.cnn_tricks)
    tta: str = "none"                # classifier: test-time augmentation of the validation score, and of the saved
                                     # model's answers in Classify (imgai.inference.tta: none | flip | flip-translate)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or exploded; str(e) says what to change."""


@dataclass
class TrainState:
    """What a consumer (the job runner) may touch between steps: the optimizers and the base rate."""
    model: torch.nn.Module | None = None
    optimizers: list = field(default_factory=list)
    base_lr: float = 0.0


def make_optimizer(params, cfg: TrainConfig, lr: float, beta1: float = 0.9, fused: bool | None = None):
    if cfg.optimizer == "adam":  # fused: one kernel for all weights instead of several per weight
        return torch.optim.Adam(params, lr=lr, betas=(beta1, 0.999), weight_decay=cfg.weight_decay, fused=fused)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer '{cfg.optimizer}': choose adam, sgd or rmsprop")


def lr_factor(schedule: str, progress: float) -> float:
    if schedule == "constant":
        return 1.0
    if schedule == "triangle":  # airbench's: from 0.2 up to 1 over the first 23%, then down to 0.07 at the end
        peak = 0.23
        return 0.2 + 0.8 * progress / peak if progress < peak else 1 - 0.93 * (progress - peak) / (1 - peak)
    warm = 0.1  # a short warm-up keeps Adam's first large steps from wrecking batch-norm statistics
    return progress / warm if progress < warm else max(0.0, (1 - progress) / (1 - warm))


def augment_batch(x: torch.Tensor, gen: torch.Generator, flip: bool) -> torch.Tensor:
    """Random affine warps of a float batch (B, C, H, W): ±10° rotation, ±10% zoom, ±2 px shift.
    One affine_grid/grid_sample call for the whole batch: no per-image Python."""
    B, dev = x.shape[0], x.device
    r = lambda lo, hi: (torch.rand(B, generator=gen) * (hi - lo) + lo).to(dev)
    angle, scale = r(-0.175, 0.175), r(0.9, 1.1)
    shift = 2.0 * 2 / x.shape[-1]  # 2 px in grid units ([-1, 1] spans the image)
    tx, ty = r(-shift, shift), r(-shift, shift)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    sx = torch.where(r(0, 1) < 0.5, -1.0, 1.0) if flip else torch.ones(B, device=dev)
    theta = torch.stack([torch.stack([cos * sx, -sin, tx], 1), torch.stack([sin * sx, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros" if not flip else "reflection", align_corners=False)


def crop_flip_batch(x: torch.Tensor, gen: torch.Generator, flip: bool = True, pad: int = 4) -> torch.Tensor:
    """Random crops of a reflect-padded batch (B, C, H, W), and half of them mirrored left-right if flip:
    shifts of up to ±pad px that keep every pixel real. One gather for the whole batch: no per-image Python."""
    B, C, H, W = x.shape
    dev = x.device
    dy, dx = (torch.randint(0, 2 * pad + 1, (2, B), generator=gen)).to(dev)
    mirror = (torch.rand(B, generator=gen) < 0.5).to(dev) & flip
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    cols = torch.arange(W, device=dev)
    cols = torch.where(mirror[:, None], W - 1 - cols, cols) + dx[:, None]           # (B, W)
    rows = torch.arange(H, device=dev) + dy[:, None]                                 # (B, H)
    b = torch.arange(B, device=dev)[:, None, None]
    return padded.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (B, C, H, W)


def augment(x: torch.Tensor, gen: torch.Generator, style: str, intake: str) -> torch.Tensor:
    """A batch's training augmentation: digits are never mirrored (a mirrored 2 is not a 2), photos may be
    (a mirrored cat is still a cat)."""
    if style == "warp":
        return augment_batch(x, gen, flip=intake != "digit")
    if style == "crop":
        return crop_flip_batch(x, gen, flip=intake != "digit")
    if style == "flip-translate":  # mirrored already (alternating_flip): only the 2-px moves here
        return crop_flip_batch(x, gen, flip=False, pad=2)
    raise ValueError(f"unknown augment_style '{style}': choose warp, crop or flip-translate")


def intake_flips(cfg: TrainConfig, intake: str) -> bool:
    """Does this run mirror its training images by alternating epochs (flip-translate; never digits)?"""
    return cfg.augment and cfg.augment_style == "flip-translate" and intake != "digit"


def to_uint8_images(x: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [0, 1] → uint8 (B, H, W, C) for display."""
    return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()


class _Clock:
    """Active training time: the time spent suspended at a yield (paused job, slow consumer) is excluded,
    so time budgets and images/s measure training, not the user's coffee break."""
    def __init__(self):
        self.active, self._t = 0.0, time.perf_counter()

    def pause(self):
        self.active += time.perf_counter() - self._t
        return self.active

    def resume(self):
        self._t = time.perf_counter()

    def now(self) -> float:
        """Active seconds so far, without pausing."""
        return self.active + time.perf_counter() - self._t


def _check_finite(name: str, value: float, step: int, lr: float, optimizer: str, limit: float = 1e4):
    if not math.isfinite(value) or abs(value) > limit:
        what = "became NaN" if math.isnan(value) else "exploded"
        other = "use a smaller batch size" if optimizer == "adam" else "switch the optimiser to Adam"
        raise TrainingDiverged(f"training stopped at step {step}: the {name} {what} ({value:.3g}); lower the "
                               f"learning rate (it was {lr:.2g}) by 10x, or {other}")


def _progress(cfg: TrainConfig, step: int, total_steps: int | None, seconds: float) -> float:
    if cfg.seconds:
        return min(1.0, seconds / cfg.seconds)
    return min(1.0, step / max(1, total_steps))


def _apply_lr(state: TrainState, cfg: TrainConfig, progress: float) -> float:
    lr = state.base_lr * lr_factor(cfg.schedule, progress)
    for opt in state.optimizers:
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)  # lr_scale: a fixed ratio, e.g. D's under TTUR
    return lr


def _batches(cfg: TrainConfig, state: TrainState, N: int, B: int, gen, clock: _Clock, total, device):
    """The index batches of a run, with the learning rate for each: a fresh shuffle every epoch, the
    ragged last batch dropped (every epoch has equal, full steps), until the epochs or the time budget
    run out. Shared by both loops, so they stop, schedule and shuffle alike."""
    steps_per_epoch, step = N // B, 0
    while True:
        perm = torch.randperm(N, generator=gen).to(device)
        for i in range(steps_per_epoch):
            progress = _progress(cfg, step, total, clock.pause())
            clock.resume()
            if progress >= 1.0:
                return
            yield perm[i * B:(i + 1) * B], _apply_lr(state, cfg, progress)
            step += 1


@torch.no_grad()
def evaluate(model, x_u8, y, mean, std, batch_size=1000, tta: str = "none"):
    """Accuracy, mean loss and predictions of a classifier over uint8 images, with test-time augmentation
    `tta` (imgai.inference.tta)."""
    was_training = model.training
    model.eval()
    preds, loss = [], 0.0
    batch_size = max(1, batch_size // n_views(tta))  # a batch's views go through the model together
    for i in range(0, len(y), batch_size):
        logits = tta_logits(model, normalize(x_u8[i:i + batch_size], mean, std), tta)
        loss += F.cross_entropy(logits, y[i:i + batch_size], reduction="sum").item()
        preds.append(logits.argmax(1))
    model.train(was_training)
    pred = torch.cat(preds)
    return (pred == y).float().mean().item(), loss / len(y), pred


def confusion_matrix(y, pred, n: int) -> list:
    return torch.bincount(y * n + pred, minlength=n * n).view(n, n).tolist()


def _epochs_plan(cfg: TrainConfig, steps_per_epoch: int):
    if cfg.seconds:
        return None
    return max(1, round((cfg.epochs or 1) * steps_per_epoch))


def train_classifier(model, data: ImageData, cfg: TrainConfig, device="cpu", state: TrainState | None = None):
    """Train a classifier with cross-entropy; yields metrics each log step, and at each epoch end the
    validation accuracy, a grid of validation images with predictions, and the confusion matrix."""
    state = state or TrainState()
    keep_freed_memory()  # each step reuses the last one's memory instead of page-faulting it in afresh
    gen = torch.Generator().manual_seed(cfg.seed)  # shuffles, augmentation and dropout: this run's own RNG
    use_generator(model, gen)
    # channels-last: oneDNN (CPU) and cuDNN convolve NHWC without reordering each layer's input; with the
    # fused Adam, the textbook CNN trains faster per image (bench/bench_keras.py). Checkpoints store
    # contiguous copies, and every reader of the model (explain, classify) takes either layout.
    fmt = torch.channels_last
    model.to(device, memory_format=fmt).train()
    x, y = data.train_x.to(device), data.train_y.to(device)
    vx, vy = data.val_x.to(device), data.val_y.to(device)
    n_classes = len(data.class_names)
    if getattr(model, "whiten_conv", None) is not None:  # fitted to these training images before any step
        fit_whitening(model.whiten_conv, normalize(x, data.mean, data.std))
    state.model, state.base_lr = model, cfg.lr
    params = model.parameters() if cfg.bn_bias_lr_scale == 1 else \
        param_groups(model, cfg.bn_bias_lr_scale, cfg.weight_decay)
    state.optimizers = [make_optimizer(params, cfg, cfg.lr, cfg.beta1, fused=True)]
    opt = state.optimizers[0]
    N, B = len(y), max(2, min(cfg.batch_size, len(y)))  # batch norm cannot learn from a batch of one
    lookahead = Lookahead(model) if cfg.lookahead else None
    # flip-translate: which images the first epoch mirrors; later epochs alternate (cnn_tricks.alternating_flip)
    first_flip = (torch.rand(N, generator=gen) < 0.5).to(device) if intake_flips(cfg, data.intake) else None
    steps_per_epoch = N // B
    total = _epochs_plan(cfg, steps_per_epoch)
    sample_idx = torch.randperm(len(vy), generator=gen)[:cfg.n_samples].to(device)
    clock, step, seen = _Clock(), 0, 0
    loss_sum = acc_sum = 0.0
    n_sum, hinted = 0, False
    for idx, lr in _batches(cfg, state, N, B, gen, clock, total, device):
        xb = normalize(x[idx], data.mean, data.std)
        if first_flip is not None:
            xb = alternating_flip(xb, idx, step // steps_per_epoch, first_flip)
        if cfg.augment:
            xb = augment(xb, gen, cfg.augment_style, data.intake)
        logits = model(xb.contiguous(memory_format=fmt))
        loss = F.cross_entropy(logits, y[idx], label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        seen += len(idx)
        if lookahead is not None:
            lookahead.update(model, step, _progress(cfg, step, total, clock.now()))
        if step % cfg.log_every == 0 or step == 1:
            l = loss.item()
            _check_finite("loss", l, step, lr, cfg.optimizer)
            loss_sum += l
            acc_sum += (logits.argmax(1) == y[idx]).float().mean().item()
            n_sum += 1
            secs = clock.pause()
            yield {"step": step, "epoch": step / steps_per_epoch, "progress": _progress(cfg, step, total, secs),
                   "seconds": secs, "images_per_s": seen / max(secs, 1e-9), "lr": lr,
                   "loss": l, "acc": acc_sum / n_sum}
            clock.resume()
        if step % steps_per_epoch == 0:
            val_acc = yield from _epoch_end(model, data, vx, vy, n_classes, sample_idx, step, steps_per_epoch, total,
                                            cfg, clock, loss_sum / max(n_sum, 1), seen)
            loss_sum = acc_sum = 0.0
            n_sum = 0
            hint = None if hinted else stall_hint(val_acc, n_classes, state.base_lr, cfg.optimizer, step / steps_per_epoch)
            if hint:
                hinted = True
                yield {"event": "hint", "step": step, "text": hint}
    if step % steps_per_epoch != 0 or step == 0:  # the run ended mid-epoch: score what we have
        val_acc = yield from _epoch_end(model, data, vx, vy, n_classes, sample_idx, step, steps_per_epoch, total, cfg,
                                        clock, loss_sum / max(n_sum, 1), seen)
        hint = None if hinted else stall_hint(val_acc, n_classes, state.base_lr, cfg.optimizer, step / steps_per_epoch)
        if hint:
            yield {"event": "hint", "step": step, "text": hint}


def _epoch_end(model, data, vx, vy, n_classes, sample_idx, step, steps_per_epoch, total, cfg, clock, loss, seen):
    secs = clock.pause()
    val_acc, val_loss, pred = evaluate(model, vx, vy, data.mean, data.std, tta=cfg.tta)
    sample = vx[sample_idx]
    yield {"step": step, "epoch": step / steps_per_epoch, "progress": _progress(cfg, step, total, secs),
           "seconds": secs, "images_per_s": seen / max(secs, 1e-9), "val_acc": val_acc, "val_loss": val_loss,
           "train_loss": loss}
    yield {"event": "samples", "step": step, "images": to_uint8_images(sample.float() / 255),
           "pred": pred[sample_idx].tolist(), "true": vy[sample_idx].tolist()}
    yield {"event": "confusion", "step": step, "epoch": step / steps_per_epoch,
           "matrix": confusion_matrix(vy, pred, n_classes)}
    clock.resume()
    return val_acc


def stall_hint(val_acc: float, n_classes: int, lr: float, optimizer: str, epochs_done: float) -> str | None:
    """One line when a classifier that has seen every training image at least once still scores at chance
    level (within 5 points, or a tenth of the way to 100%): most often a learning rate far too high (the
    ReLUs die and every picture gets the same answer), sometimes one far too low. None otherwise."""
    chance = 1 / n_classes
    if epochs_done < 1 or val_acc > chance + max(0.05, 0.1 * (1 - chance)):
        return None
    good = 3e-3 if optimizer != "sgd" else 3e-2   # the fast preset's Adam rate; SGD with momentum takes ~10x
    where = f"stalled at chance level ({val_acc:.1%} on validation with {n_classes} classes)"
    if lr > 3 * good:
        return f"{where}: the learning rate {lr:g} is too high; try {good:g}"
    if lr < good / 30:
        return f"{where}: the learning rate {lr:g} is too low; try {good:g}, or train longer"
    return f"{where}: train longer, or try a learning rate near {good:g}"


def fixed_noise(nz: int, n: int, seed: int, device="cpu") -> torch.Tensor:
    """The same latents every time for a seed, so sample grids are comparable across steps."""
    return torch.randn(n, nz, generator=torch.Generator().manual_seed(seed)).to(device)


@torch.no_grad()
def generate(generator, z, y=None) -> torch.Tensor:
    """G(z) in [-1, 1] (G(z, y) for a class-conditional generator, y the class indices), in eval mode and
    one latent at a time, so a sample never depends on its batch: batch norm uses its running statistics,
    and a batched convolution may round differently (one grey level here and there), so seed S looks
    exactly the same alone, in a grid or ending an interpolation."""
    was_training = generator.training
    generator.eval()
    try:
        return torch.cat([generator(z[i:i + 1], *(() if y is None else (y[i:i + 1],))) for i in range(len(z))])
    finally:
        generator.train(was_training)


def sample_images(generator, z, y=None) -> np.ndarray:
    """Generator output for latents z (and class indices y, for a conditional generator) as uint8 (N, H, W, C)."""
    return to_uint8_images((generate(generator, z, y) + 1) / 2)


def grid_labels(n: int, n_classes: int, device="cpu") -> torch.Tensor:
    """Class indices for a conditional sample grid: 0, 1, ..., n_classes-1, 0, 1, ... (one class per column
    when the grid is n_classes wide)."""
    return (torch.arange(n) % n_classes).to(device)


def _judge(D, x, y: tuple):
    """D's logits and, for a conditional D with a class head, its class logits (else None), in one pass."""
    return D.judge(x, *y) if hasattr(D, "judge") else (D(x, *y), None)


def train_gan(gan, data: ImageData, cfg: TrainConfig, device="cpu", state: TrainState | None = None):
    """Train a DCGAN, or a class-conditional one (CDCGAN: G and D also take the class), with the tutorial's
    non-saturating BCE losses or the hinge loss; yields losses, D(x) and D(G(z)) every log step, and a grid
    from fixed noise every sample_every steps.

    Data-efficient options (imgai.training.gan_tricks): cfg.diffaugment augments every image D sees, real and fake,
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
    total = _epochs_plan(cfg, steps_per_epoch)
    z_fixed = fixed_noise(c.nz, cfg.n_samples, cfg.seed, device)
    y_fixed = grid_labels(cfg.n_samples, c.n_classes, device) if conditional else None
    aug = (lambda x: diff_augment(x, aug_gen)) if cfg.diffaugment else (lambda x: x)
    aux = getattr(c, "aux_weight", 0.0)  # a conditional D's class head (imgai.models.cdcgan): its loss weight
    real_target = 1 - cfg.label_smoothing
    clock, step = _Clock(), 0
    yield {"event": "samples", "step": 0, "images": sample_images(sampler, z_fixed, y_fixed)}
    for idx, lr in _batches(cfg, state, N, B, gen, clock, total, device):
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
            _check_finite("discriminator loss", ld, step, lr, cfg.optimizer, limit=1e3)
            _check_finite("generator loss", lg, step, lr, cfg.optimizer, limit=1e3)
            secs = clock.pause()
            yield {"step": step, "epoch": step / steps_per_epoch, "progress": _progress(cfg, step, total, secs),
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
