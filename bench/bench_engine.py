"""The training engine's overhead: imgai's loop vs a bare PyTorch loop over the same model, the same
batches and the same optimizer, side by side in one process, in the two places the engine runs:

- "main thread": the loop consumed directly, as `python -m imgai train` does, vs the bare loop;
- "background thread": the loop inside a Job, as the app runs it, vs the bare loop in a thread.

    PYTHONPATH=. python bench/bench_engine.py [--steps 200] [--rounds 3] [--dry-run]   (IMGAI_THREADS=1: the app's setting)

Writes bench/results/engine.json (images/s of each and the engine/bare ratio; the engine should be within
a few percent of the bare loop). Rounds rotate the order so that a busy machine slows all alike; the median
round is reported. Any loop may run slower in a background thread than in the main thread when torch uses
several intra-op threads: compare each engine figure with the bare loop in the same place.
"""
import argparse
import copy
import statistics
import threading
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from imgai.data.datasets import load_dataset, normalize
from imgai.device import configure_threads, pick_device
from imgai.jobs.threads import Job
from imgai.training.runs import RunSpec, default_train_config, prepare_run
from record import add_dry_run, record


def bare_classifier(model, data, cfg, device, steps):
    """What a tutorial would write (pytorch/examples mnist: train(), then test() each epoch): shuffle, slice,
    forward, backward, step; score the validation set at each epoch end, as the engine does."""
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
        model.eval()
        with torch.no_grad():
            (model(normalize(data.val_x.to(device), data.mean, data.std)).argmax(1) == data.val_y.to(device)).float().mean().item()
        model.train()


def bare_gan(gan, data, cfg, device, steps):
    """pytorch/examples dcgan: D step, G step, and a grid from fixed noise every sample_every steps."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    G, D = gan.generator.to(device).train(), gan.discriminator.to(device).train()
    x = data.train_x.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    B, done, bce = cfg.batch_size, 0, F.binary_cross_entropy_with_logits
    fixed = torch.randn(cfg.n_samples, gan.config.nz, device=device)
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
            if done % cfg.sample_every == 0:
                G.eval()
                with torch.no_grad():
                    G(fixed)
                G.train()
            if done == steps:
                break
    loss_g.item()


def engine_main(run, steps):
    """imgai's loop as the CLI runs it: the generator consumed in this thread."""
    for _ in run.loop():
        pass


def engine_job(run, steps):
    """imgai's loop as the app runs it: a Job thread recording history, grids and weight snapshots."""
    job = Job(run.loop, run.meta).start()
    job.wait()
    if job.status != "done":
        raise RuntimeError(job.error or job.status)


def in_thread(fn):
    def run(*args):
        t = threading.Thread(target=fn, args=args)
        t.start()
        t.join()
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    a = add_dry_run(ap).parse_args()
    if a.dry_run:
        a.steps, a.rounds = 3, 1
    configure_threads()
    device = pick_device()
    data = load_dataset("digits")
    figures, readme = [], []
    for kind in ("cnn", "dcgan"):
        # constant rate, no augmentation: the bare loop does exactly the same work per step
        cfg = replace(default_train_config(kind, "fast"), augment=False, schedule="constant", seed=0)
        steps_per_epoch = len(data.train_y) // cfg.batch_size
        cfg = replace(cfg, epochs=a.steps / steps_per_epoch)
        template = prepare_run(RunSpec(kind, "fast", train=cfg), data=data, device=device)
        bare_fn = bare_classifier if kind == "cnn" else bare_gan
        contenders = {"bare_main": lambda m: bare_fn(m, data, cfg, device, a.steps),
                      "engine_main": lambda m: engine_main(replace(template, build_model=lambda: m), a.steps),
                      "bare_thread": lambda m: in_thread(bare_fn)(m, data, cfg, device, a.steps),
                      "engine_job": lambda m: engine_job(replace(template, build_model=lambda: m), a.steps)}
        names = list(contenders)
        times = {name: [] for name in names}
        for r in range(a.rounds + 1):  # round 0 warms up everything (allocator, kernels, thread pools)
            for name in names[r % 4:] + names[:r % 4]:
                model = copy.deepcopy(template.model)
                t = time.perf_counter()
                contenders[name](model)
                if r:
                    times[name].append(time.perf_counter() - t)
        ips = {k: a.steps * cfg.batch_size / statistics.median(v) for k, v in times.items()}
        where = {}
        for place, eng, bare in (("main thread", "engine_main", "bare_main"),
                                 ("background thread", "engine_job", "bare_thread")):
            fig = {"model": kind, "where": place, "threads": torch.get_num_threads(), "steps": a.steps,
                   "rounds": a.rounds, "batch_size": cfg.batch_size, "engine_images_per_s": round(ips[eng], 1),
                   "bare_images_per_s": round(ips[bare], 1), "engine_vs_bare": round(ips[eng] / ips[bare], 3)}
            figures.append(fig)
            where[place] = fig
        m, b = where["main thread"], where["background thread"]
        readme.append((f"training engine vs a bare PyTorch loop, fast {kind.upper() if kind == 'cnn' else 'GAN'} "
                       f"({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})",
                       f"{m['engine_vs_bare']:.2f}× its images/s in the CLI ({m['engine_images_per_s']:.0f} vs "
                       f"{m['bare_images_per_s']:.0f}), {b['engine_vs_bare']:.2f}× in an app job "
                       f"({b['engine_images_per_s']:.0f} vs {b['bare_images_per_s']:.0f})"))
    record("engine", figures, readme=readme, device=str(device), dry_run=a.dry_run,
           note="measured while other work shared the machine's cores; the ratios compare loops timed in "
                "rotating order within the same rounds")


if __name__ == "__main__":
    main()
