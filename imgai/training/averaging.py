"""Moving averages of a network's weights while it trains: the GAN generator's exponential moving average and the
classifier's lookahead (airbench's, Jordan 2024).

    ema = GeneratorEMA(G, decay=0.999); ...; ema.update(G, step)       # samples come from ema.model
    la = Lookahead(model); ...; la.update(model, step, progress)
"""
import copy

import torch
import torch.nn as nn


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
