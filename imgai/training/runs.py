"""A training run from a few choices: model kind, preset, data set and training knobs.

    run = prepare_run(RunSpec(model="cnn", dataset="digits")); for m in run.loop(): ...

The CLI and the app's Train page both start runs here, so a run means the same thing everywhere: the same
limits on every setting (check_settings), the same seeded weights, the same way of scoring saved weights.
"""
import math
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property, partial
from typing import Callable

import torch

from imgai.models.checkpoint import MAX_PARAMETERS  # the same cap as loading: what trains here can be loaded back
from imgai.data.datasets import ImageData, load_dataset
from imgai.models import CDCGAN, CNN, CNN_PRESETS, DCGAN, GAN_PRESETS, CDCGANConfig, CNNConfig, DCGANConfig, build_seeded
from imgai.models.cdcgan import conditional
from imgai.inference.tta import TTA_MODES
from imgai.training.train import TrainConfig, TrainState, evaluate, train_classifier, train_gan

# Training settings per (model, preset). "fast" ones are tuned on a 2-core CPU (see bench/);
# "textbook" ones are the Keras tutorials' own.
TRAIN_PRESETS = {
    # 8 epochs with a one-cycle schedule (time to 98% on digits: bench/results/cnn.json)
    ("cnn", "fast"): TrainConfig(epochs=8, batch_size=64, lr=3e-3, schedule="onecycle", augment=True),
    # the CIFAR-10 tutorial: model.fit(epochs=10) with Keras defaults (batch 32, Adam 1e-3)
    ("cnn", "textbook"): TrainConfig(epochs=10, batch_size=32, lr=1e-3, schedule="constant", augment=False),
    # Adam with the DCGAN paper's beta1 0.5 but 2.5x its rate, small batches (more updates per second on a
    # CPU) and one-sided label smoothing. After 38k images (about a minute on 2 cores) the digits CNN reads
    # 55% of samples with >= 90% confidence across 9 classes; Adam(2e-4) with batch 64: 35%, 2 classes.
    # DiffAugment, hinge + spectral norm and TTUR (TrainConfig.diffaugment, gan_loss="hinge", d_lr_ratio) stay
    # off: at a 40-s budget none of them, alone or together, lowered the Fréchet distance (bench/results/gan.json
    # of commit e636a68); the unconditional preset's EMA and class-aware D are set below.
    ("dcgan", "fast"): TrainConfig(epochs=30, batch_size=32, lr=5e-4, beta1=0.5, schedule="constant",
                                   augment=False, label_smoothing=0.1, sample_every=100),
    # the MNIST DCGAN tutorial: EPOCHS=50, BATCH_SIZE=256, Adam(1e-4) for both networks
    ("dcgan", "textbook"): TrainConfig(epochs=50, batch_size=256, lr=1e-4, beta1=0.9, schedule="constant",
                                       augment=False, sample_every=20),
}
# A preset's settings for one data set, where they differ from its general ones: (model, preset, data set).
# (cifar10-5k has none: it takes the fast preset's colour settings, COLOUR_PRESETS below, like any colour photos.)
DATASET_PRESETS = {}
# What cifar10-5k's fast preset was before the colour settings: the small-data CIFAR recipe of random 4-px crops
# and mirroring plus label smoothing 0.1 on the grey-image network; bench/bench_cifar.py's baseline.
EARLIER_CIFAR_PRESET = TrainConfig(epochs=15, batch_size=64, lr=3e-3, schedule="onecycle", augment=True,
                                   augment_style="crop", label_smoothing=0.1)
# The fast preset on colour images of any data set without its own entry above (a folder of photos too): the
# whitened network (imgai.models.cnn.whitened) trained the airbench way (Jordan 2024). Nesterov SGD at
# airbench's rates: lr 11.5 per 1024 examples of a summed loss with momentum 0.85 is 0.375 for the mean loss of a
# batch of 256, weight decay 0.0153 / 11.5; label smoothing 0.2; alternating flips
# and 2-px moves; a lookahead average of the weights; scored (and answered in Classify) with flips and 1-px
# moves. Measured lever by lever in bench/results/cifar.json: airbench's batch norm without scale and with 64x
# faster biases (bn_bias_lr_scale) was the one lever whose removal scored higher, so it is left out.
COLOUR_DATASETS = {"cifar10-5k", "cifar10"}  # and every folder:PATH (imgai.data.folder loads photos in colour)
COLOUR_PRESETS = {
    ("cnn", "fast"): TrainConfig(epochs=10, batch_size=256, optimizer="sgd", lr=0.375, momentum=0.85,
                                 weight_decay=0.0153 / 11.5, schedule="triangle", augment=True,
                                 augment_style="flip-translate", label_smoothing=0.2, lookahead=True,
                                 tta="flip-translate"),
}
# The class-conditional GAN: the GAN's fast settings as they were measured for it, spelled out so that tuning
# the unconditional preset leaves this one alone, plus the generator's moving average (with D's class head,
# CONDITIONAL_PRESETS). At 120 CPU-s over 3 seeds the digits CNN read every asked digit >= 95% only with both
# (bench/results/gan-conditional.json). Its grids show ten columns, one class each.
TRAIN_PRESETS[("cdcgan", "fast")] = TrainConfig(epochs=30, batch_size=32, lr=5e-4, beta1=0.5, schedule="constant",
                                                augment=False, label_smoothing=0.1, sample_every=100,
                                                n_samples=100, ema=0.999)
TRAIN_PRESETS[("cdcgan", "textbook")] = replace(TRAIN_PRESETS[("dcgan", "textbook")], n_samples=100)
# the unconditional GAN's fast preset adds what measured best on top of those shared settings: a class-aware D
# (CLASS_AWARE_D below) and samples from a moving average of G (bench/results/gan.json)
TRAIN_PRESETS[("dcgan", "fast")] = replace(TRAIN_PRESETS[("dcgan", "fast")], ema=0.999)
# GAN presets whose D also names the classes of the real images (DCGANConfig.d_classes, sized to the data set's
# classes when the model is built); G stays unconditional.
CLASS_AWARE_D = {("dcgan", "fast")}
MODELS = {"cnn": CNN_PRESETS, "dcgan": GAN_PRESETS, "cdcgan": GAN_PRESETS}
# The class-conditional GAN's own model settings per preset, on top of the DCGAN preset's networks
# (imgai.models.cdcgan.CDCGANConfig). fast: D's auxiliary class head (bench/results/gan-conditional.json);
# textbook: the plain projection discriminator.
CONDITIONAL_PRESETS = {"fast": {"aux_weight": 1.0}, "textbook": {}}

# The sane range of every number a run takes: (lowest, highest), both allowed. Outside it a run cannot learn,
# or ties up the server for no gain. The Train page's widgets and the CLI both stay inside these.
LIMITS = {
    "epochs": (0.01, 1000),         # 1000 passes over the bundled digits take hours on 2 cores
    "seconds": (1, 24 * 3600),      # under a second is no run; a day is more than any class needs
    "batch_size": (2, 4096),        # batch norm needs 2 images; 4096 CIFAR images are 50 MB of floats a batch
    "lr": (1e-6, 10),               # beyond these nothing moves, or everything explodes at once
    "weight_decay": (0, 1),         # 1 already pulls every weight to zero within a few steps
    "beta1": (0, 0.999),            # Adam's momentum: 1 would never forget the first gradient
    "label_smoothing": (0, 0.5),    # 0.5 tells D that real images are as likely fake
    "log_every": (1, 10_000),
    "sample_every": (1, 10_000_000),  # more steps than a run takes: no grids until the end
    "ema": (0, 0.9999),             # GAN: the generator average's decay; 1 would never move
    "d_lr_ratio": (0.01, 100),      # GAN (TTUR): D's rate as a multiple of G's
    "n_samples": (1, 256),          # a sample grid of 16x16 pictures is the most a page shows
    "seed": (0, 2**63 - 1),         # torch.Generator.manual_seed takes 64-bit seeds
    "dropout": (0, 0.95),           # model overrides: 1 would drop everything
    "d_dropout": (0, 0.95),
    "aux_weight": (0, 10),          # cdcgan: the class head's share of both losses; 10 drowns the GAN's own
    "momentum": (0, 0.999),         # sgd: 1 would never forget the first gradient
    "bn_bias_lr_scale": (0.01, 1000),  # airbench's 64; beyond 1000 the biases jump by the whole learning rate
}
LABELS = {"lr": "learning rate", "beta1": "Adam's beta1", "d_dropout": "dropout in D"}  # else: name with spaces
INTEGER = {"batch_size", "log_every", "sample_every", "n_samples", "seed"}
CHOICES = {"optimizer": ("adam", "sgd", "rmsprop"), "schedule": ("onecycle", "constant", "triangle"),
           "gan_loss": ("bce", "hinge"), "augment_style": ("warp", "crop", "flip-translate"), "tta": TTA_MODES}
OVERRIDES = {"cnn": {"dropout", "batch_norm"}, "dcgan": {"d_dropout", "d_batch_norm"},
             "cdcgan": {"d_dropout", "d_batch_norm"}}  # the Train page's knobs
# Any other field of the model's config (widths, nz: tests and the CLI shrink or grow networks) is a structural
# override: allowed, and bounded by the size of the model it builds (build_for_data) rather than field by field.
CONFIGS = {"cnn": CNNConfig, "dcgan": DCGANConfig, "cdcgan": CDCGANConfig}


class SettingsError(ValueError):
    """Run settings out of range; str(e) is one line naming every setting that is."""


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _problem(key: str, value) -> str | None:
    low, high = LIMITS[key]
    name = LABELS.get(key, key.replace("_", " "))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name} must be a number, not {value!r}"
    if math.isnan(value):
        return f"{name} must be a number, not NaN"
    if key in INTEGER and value != int(value):
        return f"{name} must be a whole number, not {_fmt(value)}"
    if not low <= value <= high:
        return f"{name} must be between {_fmt(low)} and {_fmt(high)}, not {_fmt(value)}"
    return None


def settings_problems(train: TrainConfig, model: str = "cnn", overrides: dict | None = None) -> list[str]:
    """Every setting outside its range in LIMITS, as one short phrase each; [] when the run is sane."""
    problems = []
    if train.seconds is None and train.epochs is None:
        problems.append("give a number of epochs or a time budget in seconds")
    for f in fields(train):
        value = getattr(train, f.name)
        if f.name == "epochs" and train.seconds is not None:
            continue  # a time budget overrides the epochs
        if f.name in LIMITS and value is not None:
            problems.append(_problem(f.name, value))
        elif f.name in CHOICES and value not in CHOICES[f.name]:
            problems.append(f"{f.name} must be one of {', '.join(CHOICES[f.name])}, not {value!r}")
    for k, v in (overrides or {}).items():
        structural = model in CONFIGS and k in {f.name for f in fields(CONFIGS[model])}
        if k not in OVERRIDES.get(model, ()) and not structural:
            problems.append(f"{k!r} is not a setting of the {model} model")
        elif k in LIMITS:
            problems.append(_problem(k, v))
    return [p for p in problems if p]


def check_settings(train: TrainConfig, model: str = "cnn", overrides: dict | None = None) -> TrainConfig:
    """Raise SettingsError (one line) when any setting is outside LIMITS; return `train` when all are sane."""
    problems = settings_problems(train, model, overrides)
    if problems:
        raise SettingsError("; ".join(problems))
    return train


def score_classifier(model, val_x, val_y, mean, std, tta: str = "none") -> dict:
    """The accuracy of exactly these weights on the validation split, with the test-time augmentation that
    Classify will use (imgai.inference.tta): what a checkpoint records."""
    acc, loss, _ = evaluate(model, val_x, val_y, mean, std, tta=tta)
    return {"val_acc": acc, "val_loss": loss, "val_images": int(len(val_y))}


@dataclass
class RunSpec:
    model: str = "cnn"            # cnn | dcgan | cdcgan (class-conditional GAN)
    preset: str = "fast"          # fast | textbook
    dataset: str = "digits"
    train: TrainConfig | None = None   # None: the preset's own
    model_overrides: dict = field(default_factory=dict)  # e.g. {"dropout": 0.5, "batch_norm": True}


@dataclass
class Run:
    spec: RunSpec
    data: ImageData
    train: TrainConfig
    meta: dict            # checkpoint description, less step and metrics
    device: torch.device
    # model → {"val_acc", "val_loss", "val_images"} on this run's validation split (classifiers; None for GANs).
    # A plain function (a partial of score_classifier over CPU tensors), so it pickles wherever a job goes.
    evaluate: Callable | None = None
    # () → the seeded model; built on first use of .model: a run on Ray is built again in its worker, and an
    # in-process job builds it in its own (lower-priority) thread, so pressing Start costs the server little
    build_model: Callable[[], torch.nn.Module] | None = None

    @cached_property
    def model(self) -> torch.nn.Module:
        return self.build_model()

    def loop(self, state: TrainState | None = None):
        fn = train_classifier if self.spec.model == "cnn" else train_gan
        return fn(self.model, self.data, self.train, self.device, state)


def is_colour(dataset: str) -> bool:
    """Is this data set colour images, known from its name alone (the CNN's fast preset differs for colour)?"""
    return dataset in COLOUR_DATASETS or dataset.startswith("folder:")


def default_train_config(model: str, preset: str, dataset: str | None = None, channels: int | None = None) -> TrainConfig:
    """A fresh copy of the preset's settings: for this data set when it has its own, else for colour images
    (channels 3) when the preset has colour settings, else the preset's general ones."""
    if channels is None and dataset:  # the Train page and the CLI pick settings before loading the data
        channels = 3 if is_colour(dataset) else 1
    colour = COLOUR_PRESETS.get((model, preset)) if channels == 3 else None
    return replace(DATASET_PRESETS.get((model, preset, dataset)) or colour or TRAIN_PRESETS[(model, preset)])


_COUNTS = {}   # (network class, repr of its config) -> parameter count: a class presses Start with few configs


def _parameter_count(build, cfg) -> int:
    """The network's size from its structure alone, built on the meta device (no memory), so an absurd width is
    refused before it is built. Building even on meta costs a tenth of a second of the server's CPU: counted once
    per configuration."""
    key = (build.__name__, repr(cfg))
    if key not in _COUNTS:
        with torch.device("meta"):
            _COUNTS[key] = sum(p.numel() for p in build(cfg).parameters())
    return _COUNTS[key]


def model_builder(model: str, preset: str, data: ImageData, overrides: dict | None = None, seed: int = 0):
    """Check that the preset's network sized for the data can be built (SettingsError, one line, for
    overrides it cannot take or a size beyond MAX_PARAMETERS) and return () → that network, its weights
    drawn from a generator seeded with `seed`."""
    if model not in MODELS or preset not in MODELS[model]:
        raise ValueError(f"unknown model/preset {model}/{preset}: choose {', '.join(MODELS)}, fast or textbook")
    if model == "cnn":
        cfg = MODELS[model][preset](in_channels=data.channels, image_size=data.size, num_classes=len(data.class_names))
    else:
        cfg = MODELS[model][preset](channels=data.channels, image_size=data.size)
        if model == "cdcgan":
            cfg = conditional(cfg, n_classes=len(data.class_names), **CONDITIONAL_PRESETS[preset])
    build = {"cnn": CNN, "dcgan": DCGAN, "cdcgan": CDCGAN}[model]
    if (model, preset) in CLASS_AWARE_D:
        cfg = replace(cfg, d_classes=len(data.class_names))
    try:
        cfg = replace(cfg, **(overrides or {}))
        if model == "dcgan" and cfg.d_classes not in (0, len(data.class_names)):
            raise ValueError(f"d_classes must be 0 (a plain D) or the data's {len(data.class_names)} classes")
        n = _parameter_count(build, cfg)
    except (TypeError, ValueError, RuntimeError) as e:
        raise SettingsError(f"the {model} model cannot be built with {overrides}: {str(e).splitlines()[0][:120]}") from None
    if n > MAX_PARAMETERS:
        raise SettingsError(f"the {model} model would have {n:,} weights; at most {MAX_PARAMETERS:,} train here")
    return lambda: build_seeded(lambda: build(cfg), seed)


def build_for_data(model: str, preset: str, data: ImageData, overrides: dict | None = None, seed: int = 0):
    """The preset's network sized for the data, its weights drawn from a generator seeded with `seed`."""
    return model_builder(model, preset, data, overrides, seed)()


def prepare_run(spec: RunSpec, data: ImageData | None = None, device=None) -> Run:
    """Check the settings (SettingsError, one line) and load the data; the seeded model is built when the run
    first uses it (Run.model)."""
    from imgai.device import pick_device
    if spec.train is not None:  # refuse absurd settings before loading anything
        check_settings(spec.train, spec.model, spec.model_overrides)
    data = data or load_dataset(spec.dataset)
    if data.size not in (28, 32):
        raise ValueError(f"images must be 28 or 32 pixels square, not {data.size}")
    train = check_settings(spec.train or default_train_config(spec.model, spec.preset, data.name, data.channels), spec.model,
                           spec.model_overrides)
    # the initial weights are part of a seeded run, drawn without touching torch's global RNG
    build = model_builder(spec.model, spec.preset, data, spec.model_overrides, seed=train.seed)
    meta = {"kind": spec.model, "preset": spec.preset, "dataset": data.name, "class_names": list(data.class_names),
            "image_size": data.size, "channels": data.channels, "mean": list(data.mean), "std": list(data.std),
            "intake": data.intake, "train": asdict(train)}
    if spec.model == "cnn":
        meta["tta"] = train.tta  # Classify answers as the run was scored (imgai.inference.classify)
    score = None
    if spec.model == "cnn":
        score = partial(score_classifier, val_x=data.val_x.cpu(), val_y=data.val_y.cpu(), mean=data.mean, std=data.std,
                        tta=train.tta)
    return Run(spec, data, train, meta, device or pick_device(), score, build)
