"""The GAN game on the plane, one step at a time: a Playground holds G, D and their optimisers; step("d") or
step("g") plays exactly one move, and settings may change between moves.

    pg = Playground(make_data("ring8", 20000), PlaygroundConfig(), seed=0)
    for m in pg.run(seconds=15): ...            # flat dicts of floats, one per round (d_steps D steps + 1 G step)
    x = pg.samples(2500)                        # float32 (2500, 2) from the final generator

Points are standardised inside (the data's mean and one overall scale), so the same learning rates suit a
ring of radius 2 and a grid 8 wide; everything going out (samples, views) is in the data's own coordinates.
The losses take D's logit a: D(x) = sigmoid(a) is the probability "real" of the seed's formula
V(D,G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))], reported every step with its two terms.
"""
from __future__ import annotations

import copy
import time

import numpy as np
import torch
import torch.nn.functional as F

from .model import PlaygroundConfig, build_discriminator, build_generator, make_optimizer, with_changes

REBUILD_G = ("nz", "generators", "g_width", "g_depth")      # changing these starts G afresh (its weights no longer fit)
REBUILD_D = ("pack", "d_width", "d_depth")


def d_loss(kind: str, a_real: torch.Tensor, a_fake: torch.Tensor) -> torch.Tensor:
    if kind == "least-squares":            # Mao et al. 2017: targets 1 (real) and 0 (fake)
        return 0.5 * ((a_real - 1) ** 2).mean() + 0.5 * (a_fake ** 2).mean()
    if kind == "hinge":                    # Lim & Ye 2017; Miyato et al. 2018
        return F.relu(1 - a_real).mean() + F.relu(1 + a_fake).mean()
    # minimax and non-saturating share D's loss: -[log D(x) + log(1 - D(G(z)))] = -V(D,G)
    return F.softplus(-a_real).mean() + F.softplus(a_fake).mean()


def g_loss(kind: str, a_fake: torch.Tensor) -> torch.Tensor:
    if kind == "minimax":                  # the seed's formula: G minimises log(1 - D(G(z)))
        return -F.softplus(a_fake).mean()
    if kind == "non-saturating":           # Goodfellow et al. 2014's fix: G maximises log D(G(z))
        return F.softplus(-a_fake).mean()
    if kind == "least-squares":
        return 0.5 * ((a_fake - 1) ** 2).mean()
    return -a_fake.mean()                  # hinge


class Playground:
    def __init__(self, data: np.ndarray, cfg: PlaygroundConfig = PlaygroundConfig(), seed: int = 0):
        cfg.check()
        x = np.asarray(data, np.float32)
        self.mean = x.mean(0)
        self.scale = float(x.std(0).max()) or 1.0
        self.real = torch.from_numpy((x - self.mean) / self.scale)      # (N, 2), standardised
        self.seed = seed
        self.gen = torch.Generator().manual_seed(seed)                  # batches and noise of this run only
        self.cfg = cfg
        self.d_step = self.g_step = 0
        self.train_seconds = 0.0
        self.last: dict = {}
        self._build_g()
        self._build_d()

    # --- building and changing --------------------------------------------------------------------------
    def _init_seed(self, offset: int) -> int:
        return int(torch.randint(0, 2 ** 31 - 1, (1,), generator=self.gen)) + offset

    def _build_g(self):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._init_seed(1))
            self.G = build_generator(self.cfg)
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False) if self.cfg.ema > 0 else None
        self.opt_g = make_optimizer(self.cfg.optimizer, self.G.parameters(), self.cfg.lr_g, self.cfg.beta1)
        self.view_z = None  # the fixed noise behind the shown fakes follows G's noise size

    def _build_d(self):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._init_seed(2))
            self.D = build_discriminator(self.cfg)
        self.opt_d = make_optimizer(self.cfg.optimizer, self.D.parameters(), self.cfg.lr_d, self.cfg.beta1)

    def update(self, **changes) -> list:
        """Change settings between steps; returns what had to start afresh ("G", "D"). Learning rates and
        momentum apply to the running optimisers; a new optimiser kind starts new ones; a new size or
        noise dimension starts that network from new random weights."""
        old, new = self.cfg, with_changes(self.cfg, **changes)
        if new == old:
            return []
        self.cfg, rebuilt = new, []
        if any(getattr(new, k) != getattr(old, k) for k in REBUILD_G):
            self._build_g()
            rebuilt.append("G")
        if any(getattr(new, k) != getattr(old, k) for k in REBUILD_D):
            self._build_d()
            rebuilt.append("D")
        if new.optimizer != old.optimizer:
            if "G" not in rebuilt:
                self.opt_g = make_optimizer(new.optimizer, self.G.parameters(), new.lr_g, new.beta1)
            if "D" not in rebuilt:
                self.opt_d = make_optimizer(new.optimizer, self.D.parameters(), new.lr_d, new.beta1)
        for opt, lr in ((self.opt_g, new.lr_g), (self.opt_d, new.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = (new.beta1, group["betas"][1])
                elif "momentum" in group and new.optimizer == "sgd":
                    group["momentum"] = new.beta1
        if new.ema > 0 and (self.G_ema is None or "G" in rebuilt):
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        elif new.ema == 0:
            self.G_ema = None
        return rebuilt

    # --- the game -----------------------------------------------------------------------------------------
    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.nz, generator=self.gen)

    def real_batch(self) -> torch.Tensor:
        return self.real[torch.randint(0, len(self.real), (self.cfg.batch,), generator=self.gen)]

    def judge(self, x: torch.Tensor) -> torch.Tensor:
        """D's logits for points x (B, 2), packed `pack` at a time: (B / pack,)."""
        return self.D(x.reshape(-1, 2 * self.cfg.pack)).squeeze(1)

    def step(self, kind: str) -> dict:
        """Exactly one optimiser step of D ("d") or G ("g"); returns this step's figures."""
        t0 = time.perf_counter()
        cfg = self.cfg
        if kind == "d":
            real = self.real_batch().requires_grad_(cfg.r1 > 0)
            with torch.no_grad():
                fake = self.G(self.noise(cfg.batch))
            a = self.judge(torch.cat([real, fake]))        # one pass for both (batch is a multiple of pack)
            a_real, a_fake = a[:cfg.batch // cfg.pack], a[cfg.batch // cfg.pack:]
            loss = d_loss(cfg.loss, a_real, a_fake)
            total = loss
            if cfg.r1 > 0:  # R1: penalise D's slope on real points, so it cannot grow steep walls around them
                grad, = torch.autograd.grad(a_real.sum(), real, create_graph=True)
                total = loss + 0.5 * cfg.r1 * grad.pow(2).sum(1).mean() * cfg.pack
            self.opt_d.zero_grad(set_to_none=True)
            total.backward()
            self.opt_d.step()
            self.d_step += 1
            figures = {"loss_d": loss.item(), **self._verdicts(a_real.detach(), a_fake.detach())}
        elif kind == "g":
            a_fake = self.judge(self.G(self.noise(cfg.batch)))
            loss = g_loss(cfg.loss, a_fake)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
            self.D.zero_grad(set_to_none=True)
            if self.G_ema is not None:
                self._update_ema()
            self.g_step += 1
            figures = {"loss_g": loss.item(), "d_g_z_after_d": float(torch.sigmoid(a_fake.detach()).mean())}
        else:
            raise ValueError(f"step kind must be 'd' or 'g', not {kind!r}")
        self.train_seconds += time.perf_counter() - t0
        self.last.update(figures)
        return {**self.last, "d_step": float(self.d_step), "g_step": float(self.g_step),
                "seconds": self.train_seconds}

    @staticmethod
    def _verdicts(a_real: torch.Tensor, a_fake: torch.Tensor) -> dict:
        """D(x), D(G(z)) and V(D,G) = E[log D(x)] + E[log(1 - D(G(z)))] on this batch (D = sigmoid of the logit)."""
        v_real = float(-F.softplus(-a_real).mean())     # log sigmoid(a)
        v_fake = float(-F.softplus(a_fake).mean())      # log (1 - sigmoid(a))
        return {"d_x": float(torch.sigmoid(a_real).mean()), "d_g_z": float(torch.sigmoid(a_fake).mean()),
                "v": v_real + v_fake, "v_real": v_real, "v_fake": v_fake}

    @torch.no_grad()
    def _update_ema(self):
        d = min(self.cfg.ema, (1 + self.g_step) / (10 + self.g_step))  # warm-up, as imgai.gan_tricks.GeneratorEMA
        for avg, cur in zip(self.G_ema.parameters(), self.G.parameters()):
            avg.lerp_(cur, 1 - d)

    def round(self) -> dict:
        """d_steps D steps, then one G step: one round of the game."""
        for _ in range(self.cfg.d_steps):
            self.step("d")
        m = self.step("g")
        m["round"] = float(self.g_step)
        return m

    def run(self, seconds: float | None = None, rounds: int | None = None):
        """Rounds until `seconds` of training time or `rounds` rounds (forever if neither): yields each round's
        figures."""
        done = 0
        end = None if seconds is None else self.train_seconds + seconds
        while (rounds is None or done < rounds) and (end is None or self.train_seconds < end):
            yield self.round()
            done += 1

    # --- what comes out -------------------------------------------------------------------------------------
    def sampler(self) -> torch.nn.Module:
        """The generator to sample: the moving average of G when EMA is on, else G itself."""
        return self.G_ema if self.G_ema is not None else self.G

    def to_plane(self, x: torch.Tensor) -> np.ndarray:
        return (x.detach().numpy() * self.scale + self.mean).astype(np.float32)

    @torch.no_grad()
    def samples(self, n: int, seed: int | None = None) -> np.ndarray:
        """n points of the generator in data coordinates, float32 (n, 2); noise from `seed` (default the run's)."""
        g = torch.Generator().manual_seed(self.seed if seed is None else seed)
        return self.to_plane(self.sampler()(torch.randn(n, self.cfg.nz, generator=g)))
