"""Judge a generator with a classifier: how many samples read as a digit, and how many kinds.

    python bench/judge.py weights/digits-dcgan [--n 1000]

"Readable" = the shipped digits CNN gives its top class at least 0.9 probability; "classes" = how many
of the ten classes hold at least 3% of the readable samples (10 = varied, few = mode collapse).
"""
import argparse
import json

import torch


def judge(generator, nz: int, classifier, n: int = 1000, seed: int = 12345) -> dict:
    from imgai.data import normalize
    from imgai.latent import seed_latents
    generator.eval()
    with torch.no_grad():
        x = (generator(seed_latents(seed, n, nz)) + 1) / 2                      # [0, 1]
        p = torch.softmax(classifier.model(normalize((x * 255).round(), classifier.meta["mean"],
                                                     classifier.meta["std"])), 1)
    conf, label = p.max(1)
    readable = conf >= 0.9
    counts = torch.bincount(label[readable], minlength=10)
    share = counts.float() / max(1, int(readable.sum()))
    return {"readable": round(readable.float().mean().item(), 3), "classes": int((share >= 0.03).sum()),
            "class_counts": counts.tolist()}


def main():
    from imgai.checkpoint import load_checkpoint
    from imgai.classify import load_classifier
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("--judge", default="weights/digits-cnn")
    ap.add_argument("--n", type=int, default=1000)
    a = ap.parse_args()
    gan, _ = load_checkpoint(a.weights)
    print(json.dumps(judge(gan.generator, gan.config.nz, load_classifier(a.judge), a.n)))


if __name__ == "__main__":
    main()
