"""The classifier's training loop, a plain generator: it yields flat dicts of floats, and at each epoch end the
validation figures, a grid of validation images with predictions, and the confusion matrix.

    for m in train_classifier(model, load_dataset("digits"), TrainConfig(epochs=1)): print(m)

A metrics dict has "step", "epoch", "progress" (0..1), "seconds" (active training time), "images_per_s", "lr",
"loss" and "acc"; epoch ends add "val_acc", "val_loss" and "train_loss". An event dict has an "event" key:
"samples" carries "images" (uint8 N,H,W,C) with "pred"/"true" label indices; "confusion" the validation
confusion matrix; "hint" one line saying that the classifier stalled at chance level and what to change.
The loop never prints, sleeps, saves or imports streamlit: the CLI, the job runner and tests consume it.
"""
import torch
import torch.nn.functional as F

from imgai.data.datasets import ImageData, normalize
from imgai.device import keep_freed_memory
from imgai.models import use_generator
from imgai.models.sampling import to_uint8_images
from imgai.models.tta import n_views, tta_logits
from imgai.models.whitening import fit_whitening
from imgai.training.augment import alternating_flip, augment, intake_flips
from imgai.training.averaging import Lookahead
from imgai.training.config import TrainConfig, TrainState, make_optimizer, param_groups
from imgai.training.loop import Clock, check_finite, index_batches, planned_steps, progress_of


@torch.no_grad()
def evaluate(model, x_u8, y, mean, std, batch_size=1000, tta: str = "none"):
    """Accuracy, mean loss and predictions of a classifier over uint8 images, with test-time augmentation
    `tta` (imgai.models.tta)."""
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
    # flip-translate: which images the first epoch mirrors; later epochs alternate (augment.alternating_flip)
    first_flip = (torch.rand(N, generator=gen) < 0.5).to(device) if intake_flips(cfg, data.intake) else None
    steps_per_epoch = N // B
    total = planned_steps(cfg, steps_per_epoch)
    sample_idx = torch.randperm(len(vy), generator=gen)[:cfg.n_samples].to(device)
    clock, step, seen = Clock(), 0, 0
    loss_sum = acc_sum = 0.0
    n_sum, hinted = 0, False
    for idx, lr in index_batches(cfg, state, N, B, gen, clock, total, device):
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
            lookahead.update(model, step, progress_of(cfg, step, total, clock.now()))
        if step % cfg.log_every == 0 or step == 1:
            l = loss.item()
            check_finite("loss", l, step, lr, cfg.optimizer)
            loss_sum += l
            acc_sum += (logits.argmax(1) == y[idx]).float().mean().item()
            n_sum += 1
            secs = clock.pause()
            yield {"step": step, "epoch": step / steps_per_epoch, "progress": progress_of(cfg, step, total, secs),
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
    yield {"step": step, "epoch": step / steps_per_epoch, "progress": progress_of(cfg, step, total, secs),
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
