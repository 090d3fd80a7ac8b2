"""Time of each 'see the arithmetic' view on this CPU: tracing the forward pass and explaining one conv cell,
the softmax table, the sandbox convolution, and the map of what the network learned (forward pass of the
validation images, then PCA and t-SNE of 1,000 penultimate feature vectors).

    PYTHONPATH=. IMGAI_THREADS=1 python bench/bench_views.py [--repeat 20] [--dry-run]
"""
import argparse
import statistics
import time

import numpy as np
import torch

from imgai.data.datasets import load_dataset, normalize
from imgai.device import configure_threads
from imgai.inference.arithmetic import explain_cell, preset_kernel, sandbox, softmax_table, trace_forward
from imgai.inference.classify import load_classifier
from imgai.inference.feature_map import features, pca, tsne
from record import add_dry_run, load_note, record


def median_ms(fn, repeat: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(1000 * statistics.median(times), 2)


def sklearn_tsne_s(feats, init) -> float:
    """Seconds of scikit-learn's t-SNE with the map's settings (perplexity 30, PCA start): the comparison."""
    from sklearn.manifold import TSNE
    init = (init - init.mean(0)) / (init[:, 0].std() + 1e-12) * 1e-4
    t = time.perf_counter()
    TSNE(n_components=2, init=init.astype(np.float32), random_state=0, perplexity=30,
         learning_rate="auto").fit_transform(np.asarray(feats, dtype=np.float32))
    return round(time.perf_counter() - t, 2)


def main():
    p = add_dry_run(argparse.ArgumentParser())
    p.add_argument("--repeat", type=int, default=20)
    a = p.parse_args()
    configure_threads()
    repeat = 1 if a.dry_run else a.repeat
    figures = {"threads": torch.get_num_threads()}
    rows = []
    import openTSNE, sklearn.manifold  # noqa: F401,E401 — imported before any timing: neither pays its import
    for name in ("digits-cnn", "cifar10-cnn"):
        clf = load_classifier(f"weights/{name}")
        data = load_dataset(clf.meta["dataset"])
        x = normalize(data.val_x[:1], clf.meta["mean"], clf.meta["std"])
        trace = trace_forward(clf.model, x)
        f = {"trace_forward_ms": median_ms(lambda: trace_forward(clf.model, x), repeat),
             "cell_layer0_ms": median_ms(lambda: explain_cell(trace, 0, 3, 5, 5), repeat),
             "cell_layer2_ms": median_ms(lambda: explain_cell(trace, 2, 3, 3, 3), repeat),
             "softmax_ms": median_ms(lambda: softmax_table(trace.logits, 2.0, clf.class_names), repeat)}
        img = clf.preview(x).astype(np.float64) / 255
        f["sandbox_5x5_ms"] = median_ms(lambda: sandbox(img, preset_kernel("edge", 5), 2, 1), repeat)
        n = 50 if a.dry_run else 1000
        pool = torch.cat([data.val_x, data.train_x])[:n]     # digits has 500 validation images: fill up to 1,000
        xs = normalize(pool, clf.meta["mean"], clf.meta["std"])
        t = time.perf_counter()
        feats, _ = features(clf.model, xs)
        f[f"features_{n}_ms"] = round(1000 * (time.perf_counter() - t), 1)   # the first call, as a page makes it
        t = time.perf_counter()                                                  # the NCHW pass it replaced, warm
        with torch.no_grad():
            for k in range(0, n, 500):
                clf.model(xs[k:k + 500])
        f[f"features_{n}_nchw_warm_ms"] = round(1000 * (time.perf_counter() - t), 1)
        f[f"pca_{n}_ms"] = median_ms(lambda: pca(feats), repeat)
        mean, axes = pca(feats)
        t = time.perf_counter()
        tsne(feats, 0, (feats - mean) @ axes.T)
        f[f"tsne_{n}_s"] = round(time.perf_counter() - t, 2)
        f[f"tsne_sklearn_{n}_s"] = sklearn_tsne_s(feats, (feats - mean) @ axes.T)   # the one used before, same run
        f["map_pca_total_ms"] = round(f[f"features_{n}_ms"] + f[f"pca_{n}_ms"], 1)
        figures[name] = f
        rows.append((f"{name}: PCA map of {n} images (forward pass + PCA; the NCHW forward pass alone, warm)",
                     f"{f['map_pca_total_ms'] / 1000:.2f} s ({f[f'features_{n}_nchw_warm_ms'] / 1000:.2f} s)"))
        rows.append((f"{name}: t-SNE of {n} images (openTSNE, with progress; scikit-learn's in the same run)",
                     f"{f[f'tsne_{n}_s']:.1f} s (scikit-learn {f[f'tsne_sklearn_{n}_s']:.1f} s)"))
    record("views", figures, readme=rows, dry_run=a.dry_run, note=load_note())


if __name__ == "__main__":
    main()
