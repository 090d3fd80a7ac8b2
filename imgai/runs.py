"""A training run from a few choices: model kind, preset, data set and training knobs.

    run = prepare_run(RunSpec(model="cnn", dataset="digits")); for m in run.loop(): ...

The CLI and the app's Train page both start runs here, so a run means the same thing everywhere.
"""
from dataclasses import asdict, dataclass, field, replace

import torch

from .data import ImageData, load_dataset
from .models import CDCGAN, CNN, CNN_PRESETS, DCGAN, GAN_PRESETS
from .models.cdcgan import conditional
from .train import TrainConfig, TrainState, train_classifier, train_gan

# Training settings per (model, preset). "fast" ones are tuned on a 2-core CPU (see bench/);
# "textbook" ones are the Keras tutorials' own.
TRAIN_PRESETS = {
    # 8 epochs with a one-cycle schedule: 98%+ on digits in about 25 s on 2 cores (bench/bench_cnn.py)
    ("cnn", "fast"): TrainConfig(epochs=8, batch_size=64, lr=3e-3, schedule="onecycle", augment=True),
    # the CIFAR-10 tutorial: model.fit(epochs=10) with Keras defaults (batch 32, Adam 1e-3)
    ("cnn", "textbook"): TrainConfig(epochs=10, batch_size=32, lr=1e-3, schedule="constant", augment=False),
    # Adam with the DCGAN paper's beta1 0.5 but 2.5x its rate, small batches (more updates per second on a
    # CPU) and one-sided label smoothing. After 38k images (about a minute on 2 cores) the digits CNN reads
    # 55% of samples with >= 90% confidence across 9 classes; Adam(2e-4) with batch 64: 35%, 2 classes.
    # The data-efficient options (TrainConfig.diffaugment, ema, gan_loss="hinge", d_lr_ratio) stay off: at a
    # one-minute budget none of them, alone or together, lowered the Fréchet distance (bench/results/gan.json).
    ("dcgan", "fast"): TrainConfig(epochs=30, batch_size=32, lr=5e-4, beta1=0.5, schedule="constant",
                                   augment=False, label_smoothing=0.1, sample_every=100),
    # the MNIST DCGAN tutorial: EPOCHS=50, BATCH_SIZE=256, Adam(1e-4) for both networks
    ("dcgan", "textbook"): TrainConfig(epochs=50, batch_size=256, lr=1e-4, beta1=0.9, schedule="constant",
                                       augment=False, sample_every=20),
}
# the class-conditional GAN trains like the GAN; its grids show ten columns, one class each
TRAIN_PRESETS[("cdcgan", "fast")] = replace(TRAIN_PRESETS[("dcgan", "fast")], n_samples=100)
TRAIN_PRESETS[("cdcgan", "textbook")] = replace(TRAIN_PRESETS[("dcgan", "textbook")], n_samples=100)
MODELS = {"cnn": CNN_PRESETS, "dcgan": GAN_PRESETS, "cdcgan": GAN_PRESETS}


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
    model: torch.nn.Module
    data: ImageData
    train: TrainConfig
    meta: dict            # checkpoint description, less step and metrics
    device: torch.device

    def loop(self, state: TrainState | None = None):
        fn = train_classifier if self.spec.model == "cnn" else train_gan
        return fn(self.model, self.data, self.train, self.device, state)


def default_train_config(model: str, preset: str) -> TrainConfig:
    return replace(TRAIN_PRESETS[(model, preset)])


def build_for_data(model: str, preset: str, data: ImageData, overrides: dict | None = None):
    if model not in MODELS or preset not in MODELS[model]:
        raise ValueError(f"unknown model/preset {model}/{preset}: choose {', '.join(MODELS)}, fast or textbook")
    if model == "cnn":
        cfg = MODELS[model][preset](in_channels=data.channels, image_size=data.size, num_classes=len(data.class_names))
        return CNN(replace(cfg, **(overrides or {})))
    cfg = replace(MODELS[model][preset](channels=data.channels, image_size=data.size), **(overrides or {}))
    if model == "cdcgan":
        return CDCGAN(conditional(cfg, n_classes=len(data.class_names)))
    return DCGAN(cfg)


def prepare_run(spec: RunSpec, data: ImageData | None = None, device=None) -> Run:
    from .device import pick_device
    data = data or load_dataset(spec.dataset)
    if data.size not in (28, 32):
        raise ValueError(f"images must be 28 or 32 pixels square, not {data.size}")
    train = spec.train or default_train_config(spec.model, spec.preset)
    torch.manual_seed(train.seed)  # the initial weights are part of a seeded run
    model = build_for_data(spec.model, spec.preset, data, spec.model_overrides)
    meta = {"kind": spec.model, "preset": spec.preset, "dataset": data.name, "class_names": list(data.class_names),
            "image_size": data.size, "channels": data.channels, "mean": list(data.mean), "std": list(data.std),
            "intake": data.intake, "train": asdict(train)}
    return Run(spec, model, data, train, meta, device or pick_device())
