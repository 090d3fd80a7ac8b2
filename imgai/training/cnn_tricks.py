"""Training tricks for a classifier in a CPU minute, after airbench (Jordan 2024, github:KellerJordan/cifar10-airbench):
alternating flips, a larger learning rate for batch-norm biases, and a lookahead average of the weights.

    opt = make_optimizer(param_groups(model, bias_lr_scale=64, weight_decay=5e-4), cfg, lr)

Each is a TrainConfig switch read by imgai.training.train.train_classifier; bench/bench_cifar.py measures
each one alone and all together (bench/results/cifar.json).
"""
import torch
import torch.nn as nn


def param_groups(model: nn.Module, bias_lr_scale: float, weight_decay: float) -> list[dict]:
    """The trainable weights in two optimizer groups: batch-norm biases, whose learning rate is the base rate
    times bias_lr_scale (a "lr_scale" the training loop's schedule keeps), and everything else. The biases'
    weight decay is divided by the same factor, so each step shrinks them by the same fraction as before:
    only their gradient step grows (airbench's bias_scaler 64). Frozen weights (requires_grad False) are left out."""
    norm_biases, rest = [], []
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            (norm_biases if isinstance(m, nn.modules.batchnorm._NormBase) and name == "bias" else rest).append(p)
    groups = [{"params": rest}]
    if norm_biases:
        groups.append({"params": norm_biases, "lr_scale": bias_lr_scale, "weight_decay": weight_decay / bias_lr_scale})
    return groups


def alternating_flip(x: torch.Tensor, idx: torch.Tensor, epoch: int, first: torch.Tensor) -> torch.Tensor:
    """Mirror the batch x (B, C, H, W) of training images idx (B,) the airbench way: in the first epoch an image is
    mirrored where `first` (one random bool per training image, drawn once per run) says so, and from then on
    every other epoch, so each image is seen both ways in every two epochs instead of by chance."""
    mirror = (first[idx] ^ bool(epoch % 2)).view(-1, 1, 1, 1)
    return torch.where(mirror, x.flip(-1), x)


class Lookahead:
    """Every `every` steps, pull a slow copy of the weights toward the fast ones and put the fast weights back
    onto it (Zhang et al. 2019's lookahead, with airbench's schedule: the slow copy's decay grows as
    0.95^5 x progress^3, so it follows the weights freely at first and averages them near the end). Batch
    norm's running statistics are averaged alike; integer buffers (counts) are left alone. A run simply ends
    on its last step's weights: airbench's closing return to the slow copy undoes at most every-1 steps
    taken at the schedule's smallest learning rates."""

    def __init__(self, model: nn.Module, every: int = 5, decay: float = 0.95 ** 5):
        self.every, self.decay = every, decay  # airbench's constants
        self.slow = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module, step: int, progress: float):
        """Call after each optimizer step (step counts from 1; progress runs 0..1 over the run)."""
        if step % self.every:
            return
        decay = self.decay * progress ** 3
        state = model.state_dict()
        for k, slow in self.slow.items():
            slow.lerp_(state[k], 1 - decay)
            state[k].copy_(slow)
