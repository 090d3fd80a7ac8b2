"""What both training loops share: the active-time clock, the index batches and learning rate of every step,
and the check that stops a diverging run with one line saying what to change.

    for idx, lr in index_batches(cfg, state, N, B, gen, clock, planned_steps(cfg, N // B), device): ...
"""
import math
import time

import torch

from imgai.training.config import TrainConfig, TrainingDiverged, TrainState, lr_factor


class Clock:
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


def check_finite(name: str, value: float, step: int, lr: float, optimizer: str, limit: float = 1e4):
    if not math.isfinite(value) or abs(value) > limit:
        what = "became NaN" if math.isnan(value) else "exploded"
        other = "use a smaller batch size" if optimizer == "adam" else "switch the optimiser to Adam"
        raise TrainingDiverged(f"training stopped at step {step}: the {name} {what} ({value:.3g}); lower the "
                               f"learning rate (it was {lr:.2g}) by 10x, or {other}")


def progress_of(cfg: TrainConfig, step: int, total_steps: int | None, seconds: float) -> float:
    if cfg.seconds:
        return min(1.0, seconds / cfg.seconds)
    return min(1.0, step / max(1, total_steps))


def apply_lr(state: TrainState, cfg: TrainConfig, progress: float) -> float:
    lr = state.base_lr * lr_factor(cfg.schedule, progress)
    for opt in state.optimizers:
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)  # lr_scale: a fixed ratio, e.g. D's under TTUR
    return lr


def index_batches(cfg: TrainConfig, state: TrainState, N: int, B: int, gen, clock: Clock, total, device):
    """The index batches of a run, with the learning rate for each: a fresh shuffle every epoch, the
    ragged last batch dropped (every epoch has equal, full steps), until the epochs or the time budget
    run out. Shared by both loops, so they stop, schedule and shuffle alike."""
    steps_per_epoch, step = N // B, 0
    while True:
        perm = torch.randperm(N, generator=gen).to(device)
        for i in range(steps_per_epoch):
            progress = progress_of(cfg, step, total, clock.pause())
            clock.resume()
            if progress >= 1.0:
                return
            yield perm[i * B:(i + 1) * B], apply_lr(state, cfg, progress)
            step += 1


def planned_steps(cfg: TrainConfig, steps_per_epoch: int):
    if cfg.seconds:
        return None
    return max(1, round((cfg.epochs or 1) * steps_per_epoch))
