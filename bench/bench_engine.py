"""The training engine's overhead: imgai's loop run as a background Job vs a bare PyTorch loop over the
same model, the same batches and the same optimizer, side by side in one process.

    python bench/bench_engine.py [--steps 200] [--rounds 3]

Prints images/s for each and the ratio (the engine should be within 5% of the bare loop). Rounds
alternate A/B so that a busy machine slows both alike.
"""
import argparse
import copy
import json
import math
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from imgai.data import load_dataset, normalize
from imgai.device import configure_threads, pick_device
from imgai.jobs import Job
from imgai.runs import RunSpec, default_train_config, prepare_run


def bare_classifier(model, data, cfg, device, steps):
    """What a tutorial would write: shuffle, slice, forward, backward, step."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model.to(device).train()
    x, y = data.train_x.to(device), data.train_y.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    B, done = cfg.batch_size, 0
    while done < steps:
        perm = torch.randperm(len(y), generator=gen).to(device)
        for i in range(len(y) // B):
            idx = perm[i * B:(i + 1) * B]
            loss = F.cross_entropy(model(normalize(x[idx], data.mean, data.std)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    loss.item()  # wait for the device


def bare_gan(gan, data, cfg, device, steps):
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    G, D = gan.generator.to(device).train(), gan.discriminator.to(device).train()
    x = data.train_x.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    B, done, bce = cfg.batch_size, 0, F.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(B, 1, device=device), torch.zeros(B, 1, device=device)
    while done < steps:
        perm = torch.randperm(len(x), generator=gen).to(device)
        for i in range(len(x) // B):
            real = x[perm[i * B:(i + 1) * B]].float() / 127.5 - 1
            fake = G(torch.randn(B, gan.config.nz, generator=gen).to(device))
            loss_d = bce(D(real), ones * (1 - cfg.label_smoothing)) + bce(D(fake.detach()), zeros)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            loss_g = bce(D(fake), ones)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            done += 1
            if done == steps:
                break
    loss_g.item()


def engine(run, steps):
    """imgai's loop as the app runs it: a Job thread recording history, grids and weight snapshots."""
    job = Job(run.loop, run.meta).start()
    job.wait()
    if job.status != "done":
        raise RuntimeError(job.error or job.status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    configure_threads()
    device = pick_device()
    data = load_dataset("digits")
    for kind in ("cnn", "dcgan"):
        # constant rate, no augmentation: the bare loop does exactly the same work per step
        cfg = replace(default_train_config(kind, "fast"), augment=False, schedule="constant", seed=0)
        steps_per_epoch = len(data.train_y) // cfg.batch_size
        cfg = replace(cfg, epochs=a.steps / steps_per_epoch)
        template = prepare_run(RunSpec(kind, "fast", train=cfg), data=data, device=device)
        bare_fn = bare_classifier if kind == "cnn" else bare_gan
        times = {"engine": [], "bare": []}
        for r in range(a.rounds + 1):  # round 0 warms up both (allocator, kernels)
            for name in ("bare", "engine") if r % 2 else ("engine", "bare"):
                model = copy.deepcopy(template.model)
                t = time.perf_counter()
                if name == "bare":
                    bare_fn(model, data, cfg, device, a.steps)
                else:
                    engine(replace(template, model=model), a.steps)
                if r:
                    times[name].append(time.perf_counter() - t)
        ips = {k: a.steps * cfg.batch_size / min(v) for k, v in times.items()}  # best round: least disturbed
        print(json.dumps({"model": kind, "device": str(device), "steps": a.steps, "batch_size": cfg.batch_size,
                          "engine_images_per_s": round(ips["engine"], 1), "bare_images_per_s": round(ips["bare"], 1),
                          "engine_vs_bare": round(ips["engine"] / ips["bare"], 3)}), flush=True)


if __name__ == "__main__":
    main()
