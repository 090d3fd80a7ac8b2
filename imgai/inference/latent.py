"""Latent space math for generators: latents from seeds, straight and spherical interpolation, truncation,
principal directions of variation (GANSpace), and a classifier in the loop (labels, histograms, steering).

    frames = interpolate(seed_latent(7, 100), seed_latent(42, 100), steps=8, method="slerp")
    dirs = principal_directions(gan.generator, nz=100); z = edit_latents(z, dirs, [2.0, 0, -1], psi=0.7)
    path = steer(gan.generator, load_classifier("weights/digits-cnn"), seed_latent(7, 100), target=3)

A seed names a latent: `seed_latents(S, n)` draws n latents one row at a time from a generator seeded
with S, so its first row is `seed_latent(S)` whatever n is — "generate --seed S" and "interpolate
--seeds S ..." agree on what seed S looks like.
Pure PyTorch: the Latent space page and the CLI call these; nothing here knows about Streamlit.
"""
from dataclasses import dataclass

import torch

from imgai.models.sampling import generate, to_uint8_images


def seed_latents(seed: int, n: int, nz: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(int(seed))
    return torch.stack([torch.randn(nz, generator=g) for _ in range(n)])  # (n, nz)


def seed_latent(seed: int, nz: int) -> torch.Tensor:
    return seed_latents(seed, 1, nz)[0]


def lerp(a: torch.Tensor, b: torch.Tensor, t) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation: walks the great circle between a and b, and interpolates their norms.
    Gaussian latents live near a sphere of radius sqrt(nz); a straight line cuts inside it, through
    latents the generator rarely saw in training (White, "Sampling Generative Networks", 2016)."""
    na, nb = a.norm(), b.norm()
    ua, ub = a / na.clamp_min(eps), b / nb.clamp_min(eps)
    omega = torch.arccos((ua * ub).sum().clamp(-1 + eps, 1 - eps))
    so = torch.sin(omega)
    if so.abs() < 1e-5:  # (anti)parallel: the circle is undefined, a line is as good
        return lerp(a, b, t)
    t = torch.as_tensor(t, dtype=a.dtype)
    direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / so
    return direction * lerp(na, nb, t)


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    """(steps, nz) latents from a to b inclusive."""
    if steps < 2:
        raise ValueError("an interpolation needs at least 2 steps")
    if method not in ("slerp", "lerp"):
        raise ValueError(f"unknown interpolation method '{method}': choose slerp or lerp")
    fn = slerp if method == "slerp" else lerp
    ts = torch.linspace(0, 1, steps)
    frames = torch.stack([fn(a, b, float(t)) for t in ts])
    frames[0], frames[-1] = a, b  # exact end frames, whatever rounding did
    return frames


# ---------------------------------------------------------------------------------------------------------
# Truncation and principal directions (GANSpace)
# ---------------------------------------------------------------------------------------------------------

def truncate(z: torch.Tensor, psi: float, mean: torch.Tensor | None = None) -> torch.Tensor:
    """Pull latents toward the mean latent: mean + psi * (z - mean). psi=1 leaves them alone, psi=0 gives
    the mean (the origin for a Gaussian prior, so G's "average" image). Smaller psi trades variety for
    typical, cleaner samples (the truncation trick: Brock et al., BigGAN, 2019; Karras et al., StyleGAN)."""
    mean = torch.zeros_like(z) if mean is None else mean.to(z)
    return mean + float(psi) * (z - mean)


@dataclass
class Directions:
    """Principal directions of variation of a generator, as unit latent vectors.

    vectors: (k, nz) orthonormal rows, most important first. Latents are N(0, I), so a latent's
             coordinate along any unit vector has standard deviation 1: an offset of 2 along a direction
             is "2 standard deviations", which is what the page's sliders show.
    explained: (k,) the share of the sampled activations' variance each principal component explains.
    """
    vectors: torch.Tensor
    explained: torch.Tensor


@torch.no_grad()
def principal_directions(generator, nz: int, k: int = 8, n: int = 2000, seed: int = 0) -> Directions:
    """GANSpace (Härkönen et al., 2020) for our DCGAN generator.

    1. Sample n latents z (n, nz) and run the generator's first blocks in eval mode up to an early
       activation y (n, D): the first conv block's output, the coarse map that lays out the whole image
       (which digit, its slant, its thickness); later layers add detail. We measured the alternatives on
       a digits DCGAN: the dense `project` output is a near-linear image of z, so its spectrum is flat
       (~1.4% of the variance per component) and its components are barely better than random
       directions; this layer's first component explains ~9% and moves the image about 3x as much as a
       random unit direction; the final images do no better and cost twice as much.
    2. PCA of y: the top-k principal components and each sample's coordinates x (n, k) along them.
    3. The components live in feature space; to move a latent we need latent directions. As in GANSpace's
       BigGAN recipe, regress the latents on the PCA coordinates: z ≈ x U by least squares, so row i of U
       is the latent move that best produces a unit step along component i.
    4. Orthonormalise the rows of U in order (QR), so the first direction is the first component's own
       direction, each later one is its component's direction with the earlier ones removed, and sliders
       do not double-count each other. Signs are fixed so each keeps its regressed direction.

    Why features, not the latents alone: z is isotropic, so PCA of z has no preferred directions; what
    matters is how the generator responds to z. Deterministic for a given seed.
    """
    if not 1 <= k <= nz:
        raise ValueError(f"k must be between 1 and the latent size {nz}, not {k}")
    n = max(int(n), 2 * k + 2)
    was_training = generator.training
    generator.eval()
    try:
        z = seed_latents_fast(seed, n, nz).to(_device(generator))              # (n, nz)
        y = _early_features(generator, z)                                      # (n, D)
    finally:
        generator.train(was_training)
    z, y = z.cpu(), y.cpu()                                                    # a small PCA: CPU is fine
    y = y - y.mean(0)
    # randomized PCA (Halko et al. 2011): the top k+10 components of an (n, D) matrix in a fraction of the
    # time an exact SVD takes; from its own seeded generator, so the directions of a generator never change
    # between runs and no other thread's random numbers are touched
    U, S = _randomized_svd(y, min(k + 10, *y.shape), niter=4, generator=torch.Generator().manual_seed(int(seed)))
    evals = S[:k] ** 2
    x = U[:, :k] * S[:k]                                                       # (n, k) PCA coordinates
    total = (y * y).sum().clamp_min(1e-12)
    x = x / x.std(0).clamp_min(1e-12)                                          # unit-variance coordinates
    u = torch.linalg.lstsq(x, z - z.mean(0)).solution                          # (k, nz): z ≈ x u
    q, _ = torch.linalg.qr(u.T)                                                # (nz, k) orthonormal columns
    sign = torch.sign((q * u.T).sum(0))
    q = q * torch.where(sign == 0, torch.ones_like(sign), sign)               # keep each row's sense
    return Directions(vectors=q.T.contiguous(), explained=(evals / total))


def _randomized_svd(a: torch.Tensor, q: int, niter: int, generator: torch.Generator):
    """(U, S) of the top-q singular triplets of a (m, n): torch.pca_lowrank's algorithm (Halko et al. 2011,
    subspace iteration with re-orthonormalisation) with the random start drawn from `generator`
    (torch.pca_lowrank draws it from the process-wide RNG)."""
    r = torch.randn(a.shape[1], q, generator=generator, dtype=a.dtype)          # (n, q) random start
    basis = torch.linalg.qr(a @ r).Q                                            # (m, q)
    for _ in range(niter):
        basis = torch.linalg.qr(a.mT @ basis).Q                                 # (n, q)
        basis = torch.linalg.qr(a @ basis).Q                                    # (m, q)
    u, s, _ = torch.linalg.svd(basis.mT @ a, full_matrices=False)               # (q, q), (q,)
    return basis @ u, s


def _early_features(generator, z: torch.Tensor) -> torch.Tensor:
    """The activation GANSpace analyses: for imgai's DCGAN, the first conv block's output (B, w1*s*s),
    the coarse start-size map (7x7 for 28px digits) that lays out the whole image."""
    if all(hasattr(generator, a) for a in ("project", "body", "start")):
        h = generator.project(z).view(z.shape[0], -1, generator.start, generator.start)
        return generator.body[:3](h).flatten(1)       # conv → batch norm → LeakyReLU
    return generator(z).flatten(1)  # any other generator: PCA of its images (slower, still meaningful)


def seed_latents_fast(seed: int, n: int, nz: int) -> torch.Tensor:
    """n latents from one seeded generator in a single draw. Same distribution as seed_latents, faster
    for large n, but NOT the same rows: use seed_latents wherever a seed must name a picture."""
    return torch.randn(n, nz, generator=torch.Generator().manual_seed(int(seed)))


def edit_latents(z: torch.Tensor, directions: Directions | torch.Tensor | None = None, offsets=None,
                 psi: float = 1.0) -> torch.Tensor:
    """Truncate latents z (B, nz) or (nz,) by psi, then move them by offsets[i] standard deviations along
    direction i (GANSpace applies its edits after truncation, so an edit means the same at every psi)."""
    out = truncate(z, psi)
    if directions is None or offsets is None:
        return out
    v = directions.vectors if isinstance(directions, Directions) else directions
    off = torch.as_tensor(list(offsets) if not torch.is_tensor(offsets) else offsets, dtype=z.dtype, device=z.device)
    if off.numel() > v.shape[0]:
        raise ValueError(f"{off.numel()} offsets for {v.shape[0]} directions")
    return out + off @ v[:off.numel()].to(z)


def direction_sweeps(z: torch.Tensor, directions: Directions, offsets, stops) -> torch.Tensor:
    """(D, S, nz): for each direction d of the D offsets, the edited latent z (nz,) with its slider d moved to
    each of the S stops and the other sliders left where they are: "what would this slider do from here"."""
    v = directions.vectors[:len(offsets)].to(z)                                      # (D, nz)
    now = torch.as_tensor(list(offsets), dtype=z.dtype, device=z.device)             # (D,)
    moves = torch.as_tensor(list(stops), dtype=z.dtype, device=z.device)[None, :] - now[:, None]  # (D, S)
    return z + moves[..., None] * v[:, None, :]


# ---------------------------------------------------------------------------------------------------------
# A classifier in the loop: labels, class histograms, steering
# ---------------------------------------------------------------------------------------------------------

def classifier_input(images: torch.Tensor, meta: dict) -> torch.Tensor:
    """Generator output (B, C, H, W) in [-1, 1] → the classifier's normalised input: map to [0, 1] (the
    scale training images had), then (x - mean) / std with the classifier's own statistics."""
    size, channels = meta.get("image_size"), meta.get("channels")
    if tuple(images.shape[1:]) != (channels, size, size):
        raise ValueError(f"the classifier takes {channels}x{size}x{size} images, the generator makes "
                         f"{images.shape[1]}x{images.shape[2]}x{images.shape[3]}")
    m = torch.tensor(meta["mean"], dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    s = torch.tensor(meta["std"], dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    return ((images + 1) / 2 - m) / s


def fits(gen_meta: dict, clf_meta: dict) -> bool:
    """Can this classifier read this generator's images (same size and channels, a plain image model)?"""
    return (clf_meta.get("kind") == "cnn" and clf_meta.get("image_size") == gen_meta.get("image_size")
            and clf_meta.get("channels") == gen_meta.get("channels"))


@torch.no_grad()
def class_probabilities(generator, classifier, z: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """(B, classes) probabilities the classifier gives G(z); both networks in eval mode."""
    G, C = _eval(generator), _eval(classifier.model)
    gen_dev, clf_dev = _device(generator), _device(classifier.model)
    try:
        out = []
        for zb in z.split(batch_size):
            x = classifier_input(generator(zb.to(gen_dev)), classifier.meta).to(clf_dev)
            out.append(torch.softmax(classifier.model(x), 1))
    finally:
        G(), C()
    return torch.cat(out).cpu()


@torch.no_grad()
def render(generator, z: torch.Tensor, classifier=None):
    """(uint8 images (N, H, W, C), [(label, confidence)] or None) for latents z: one generator pass serves
    both the pictures and the classifier (the page redraws these on every slider move)."""
    x = generate(generator, z.to(_device(generator)))   # as imgai.models.sampling.sample_images: batch-independent
    images = to_uint8_images((x + 1) / 2)
    if classifier is None:
        return images, None
    C = _eval(classifier.model)
    try:
        p = torch.softmax(classifier.model(classifier_input(x, classifier.meta).to(_device(classifier.model))), 1)
    finally:
        C()
    conf, idx = p.max(1)
    return images, [(classifier.class_names[i], float(c)) for i, c in zip(idx.tolist(), conf)]


def label_samples(generator, classifier, z: torch.Tensor) -> list:
    """[(label, confidence)] for each latent's image, e.g. [("3", 0.97), ...]."""
    p = class_probabilities(generator, classifier, z)
    conf, idx = p.max(1)
    return [(classifier.class_names[i], float(c)) for i, c in zip(idx.tolist(), conf)]


def class_histogram(generator, classifier, nz: int, n: int = 500, seed: int = 0, psi: float = 1.0) -> dict:
    """Label n random samples: {"counts": [per class], "confidence": [mean per class], "labels": (n,) int,
    "class_names"}. A healthy generator of a balanced data set gives every class about n/classes; a few
    tall bars and empty classes is mode collapse."""
    z = truncate(seed_latents_fast(seed, n, nz), psi)
    p = class_probabilities(generator, classifier, z)
    conf, idx = p.max(1)
    K = len(classifier.class_names)
    counts = torch.bincount(idx, minlength=K)                        # p is on the CPU
    conf_sum = torch.zeros(K).index_add_(0, idx, conf)
    return {"counts": counts.tolist(), "confidence": (conf_sum / counts.clamp_min(1)).tolist(),
            "labels": idx.tolist(), "class_names": list(classifier.class_names)}


@dataclass
class SteerPath:
    """Where steering went: latents (T, nz) frame by frame, the first being the start; prob (T,) the
    target class's probability at each frame; label/confidence the classifier's top answer per frame."""
    latents: torch.Tensor
    prob: list
    labels: list
    confidence: list
    target: int

    @property
    def best(self) -> int:
        """The frame where p(target) was highest (the first, on a tie). A fixed-length step can overshoot a
        narrow ridge, so a walk may rise and then fall back: what it reached is this frame, not the last."""
        return max(range(len(self.prob)), key=lambda i: (self.prob[i], -i))

    def to_best(self) -> "SteerPath":
        """The path up to and including its best frame."""
        n = self.best + 1
        return SteerPath(self.latents[:n], self.prob[:n], self.labels[:n], self.confidence[:n], self.target)


def steer(generator, classifier, z0: torch.Tensor, target: int, steps: int = 20, step_size: float = 1.0,
          stop_at: float | None = None) -> SteerPath:
    """Walk the latent toward class `target`: gradient ascent on log p(target | G(z)).

    Each frame takes a step of fixed length `step_size` (in latent units; a latent has norm ≈ sqrt(nz))
    along the gradient's component tangent to the sphere through z0, then renormalises to |z0|. Staying
    on that shell keeps z where Gaussian latents live (a free gradient walk soon leaves it and the images
    turn to mush), and fixed-length steps make the frames evenly spaced, so the strip reads as a path.
    Stops early once p(target) ≥ stop_at. Both networks stay in eval mode and their weights untouched.
    """
    K = len(classifier.class_names)
    if not 0 <= int(target) < K:
        raise ValueError(f"class {target} is not one of the classifier's {K} classes")
    z = z0.detach().clone().float().reshape(1, -1).to(_device(generator))
    radius = z.norm().clamp_min(1e-6)
    G, C = _eval(generator), _eval(classifier.model)
    latents, probs, labels, confs = [], [], [], []
    try:
        for t in range(steps + 1):
            z.requires_grad_(True)
            x = classifier_input(generator(z), classifier.meta).to(_device(classifier.model))
            logp = torch.log_softmax(classifier.model(x), 1)
            p = logp.detach().exp()[0]
            latents.append(z.detach()[0].cpu())
            probs.append(float(p[target]))
            labels.append(classifier.class_names[int(p.argmax())])
            confs.append(float(p.max()))
            if t == steps or (stop_at is not None and probs[-1] >= stop_at):
                break
            (g,) = torch.autograd.grad(logp[0, target], z)
            with torch.no_grad():
                g = g - (g * z).sum() / (z * z).sum() * z        # tangent to the sphere: keep |z|
                z = z + step_size * g / g.norm().clamp_min(1e-12)
                z = z * radius / z.norm()
    finally:
        G(), C()
    return SteerPath(torch.stack(latents), probs, labels, confs, int(target))


def _device(module) -> torch.device:
    """Where a module's weights live: latents made on the CPU (seeds) are moved there before use."""
    p = next(module.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _eval(module):
    """Put a module in eval mode; returns a function that restores its previous mode."""
    was = module.training
    module.eval()
    return lambda: module.train(was)


# ---------------------------------------------------------------------------------------------------------
# Seeds as the Latent space page edits them (sliders and truncation applied to seeds' own latents)
# ---------------------------------------------------------------------------------------------------------

def edited_seed_latents(seeds, nz: int, directions=None, offsets=None, psi: float = 1.0) -> torch.Tensor:
    """(N, nz): each seed's own latent (seed_latent), truncated by psi and moved by the direction offsets."""
    return edit_latents(torch.stack([seed_latent(s, nz) for s in seeds]), directions, offsets, psi)


def seed_interpolation(a: int, b: int, nz: int, steps: int, method: str = "slerp") -> torch.Tensor:
    """(steps, nz): from seed a's latent to seed b's, ends included."""
    return interpolate(seed_latent(a, nz), seed_latent(b, nz), steps, method)


def direction_grid(generator, seed: int, nz: int, directions, offsets, psi: float, stops):
    """uint8 (D, S, H, W, C): for each direction d, seed's current picture (offsets and psi applied) with
    slider d set to each of the S stops — "what would this slider do from here"."""
    from imgai.models.sampling import sample_images
    z = direction_sweeps(edit_latents(seed_latent(seed, nz), directions, offsets, psi), directions, offsets, stops)
    images = sample_images(generator, z.reshape(-1, nz))                          # (D * S, H, W, C)
    return images.reshape(len(offsets), len(stops), *images.shape[1:])


def class_rows(G, nz: int, n_classes: int, seeds: list):
    """A class-conditional generator's repertoire, uint8 (n_classes * len(seeds), H, W, C): row c holds class c
    drawn from each seed (the same latents in every row, so a column shows one style written as every class)."""
    from imgai.models.sampling import sample_images
    z = edited_seed_latents(seeds, nz).repeat(n_classes, 1)
    labels = torch.arange(n_classes).repeat_interleave(len(seeds))
    return sample_images(G, z, labels)
