"""Model registry: every kind of model a checkpoint can hold, rebuilt from its config dict alone.

    model = build_model("cnn", {"in_channels": 1, "image_size": 28, "num_classes": 10})

Randomness never comes from torch's process-wide RNG here, so jobs training in other threads cannot change
a model: `build_seeded` initialises weights from its own seeded generator, `model_from_weights` builds on
the meta device (no initialisation at all) and takes the given tensors, and `use_generator` hands a
training loop's generator to the dropout layers.
"""
import importlib
import math
from dataclasses import asdict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import _SpectralNorm

from .cdcgan import CDCGAN, CDCGANConfig
from .cnn import CNN, CNN_PRESETS, CNNConfig, Dropout
from .dcgan import DCGAN, GAN_PRESETS, DCGANConfig


def _photo_head(config: dict) -> nn.Module:
    from .imagenet import PhotoHead, PhotoHeadConfig  # lazy: the ImageNet package is only needed for photos
    return PhotoHead(PhotoHeadConfig(**config))


BUILDERS = {
    "cnn": lambda config: CNN(CNNConfig(**config)),
    "dcgan": lambda config: DCGAN(DCGANConfig(**config)),
    "cdcgan": lambda config: CDCGAN(CDCGANConfig(**config)),
    "photo-head": _photo_head,
}
# each kind as a page, the CLI and the class board name it
KIND_NAMES = {"cnn": "CNN", "dcgan": "GAN", "cdcgan": "conditional GAN", "photo-head": "photo classifier"}


def build_model(kind: str, config: dict) -> nn.Module:
    if kind not in BUILDERS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(BUILDERS)}")
    return BUILDERS[kind](config)


def model_config(model: nn.Module) -> dict:
    return asdict(model.config)


def build_on_meta(kind: str, config: dict) -> nn.Module:
    """The model's structure without memory or initialisation (tensors on the meta device): cheap even for
    an absurd config, so its shapes can be checked before anything real is built."""
    if kind == "photo-head":
        importlib.import_module("imgai.models.imagenet")  # imported first: its module-level tensors stay real
    with torch.device("meta"):
        return build_model(kind, config)


def model_from_weights(kind: str, config: dict, tensors: dict) -> nn.Module:
    """Build the model and take `tensors` (a full state dict, strict) as its weights, without initialising
    anything first. The model uses the tensors themselves: pass copies if they must stay untouched."""
    model = build_on_meta(kind, config)
    model.load_state_dict(tensors, strict=True, assign=True)
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise RuntimeError(f"the weights do not set {left[0]}")
    return model


def _weight(m: nn.Module) -> torch.Tensor:
    """The weight parameter itself: under a parametrization (spectral norm) that is the original tensor."""
    return m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight


def _init_spectral_norm(m: nn.Module, generator: torch.Generator, done: set):
    """Spectral norm keeps power-iteration vectors u, v as buffers, drawn when the layer is made: draw them
    from `generator`, then run torch's own 15 warm-up iterations on the freshly initialised weight."""
    if not parametrize.is_parametrized(m, "weight"):
        return
    for p in m.parametrizations.weight:
        if isinstance(p, _SpectralNorm) and p._u.numel():
            p._u.copy_(F.normalize(torch.randn(p._u.shape, generator=generator), dim=0, eps=p.eps))
            p._v.copy_(F.normalize(torch.randn(p._v.shape, generator=generator), dim=0, eps=p.eps))
            p._power_method(p._reshape_weight_to_matrix(m.parametrizations.weight.original), 15)
            done.update((p._u, p._v))


def init_weights(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """torch's default initialisation (kaiming-uniform with a=sqrt(5), biases uniform in ±1/sqrt(fan_in);
    batch norm to identity), drawn from `generator` instead of the global RNG."""
    done = set()
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd)):
            w = _weight(m)
            nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
            done.add(w)
            if m.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(w)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
                done.add(m.bias)
            _init_spectral_norm(m, generator, done)
        elif isinstance(m, nn.Embedding):
            w = _weight(m)
            # torch's default N(0, 1), unless the layer asks for a smaller spread (cdcgan's projection)
            nn.init.normal_(w, std=getattr(m, "init_std", 1.0), generator=generator)
            done.add(w)
            _init_spectral_norm(m, generator, done)
        elif isinstance(m, nn.modules.batchnorm._NormBase):
            m.reset_parameters()  # ones, zeros and fresh running statistics: no randomness
            done.update(t for t in (m.weight, m.bias, m.running_mean, m.running_var, m.num_batches_tracked)
                        if t is not None)
    missed = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t not in done]
    if missed:  # a layer type added later must get its initialisation here, not silently keep garbage
        raise TypeError(f"init_weights does not know how to initialise {missed[0]}")
    return model


def build_seeded(make, seed: int, device="cpu") -> nn.Module:
    """`make()` builds a model; its weights are initialised from a generator seeded with `seed`. The same
    seed gives the same weights whatever other threads do with torch's global RNG."""
    with torch.device("meta"):
        model = make()
    model.to_empty(device=device)
    with torch.no_grad():
        return init_weights(model, torch.Generator(device=device).manual_seed(int(seed)))


def use_generator(model: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """Make every dropout layer of `model` draw its masks from `generator` (None: torch's global RNG)."""
    for m in model.modules():
        if isinstance(m, Dropout):
            m.generator = generator
    return model


__all__ = ["CDCGAN", "CDCGANConfig", "CNN", "CNNConfig", "CNN_PRESETS", "DCGAN", "DCGANConfig", "Dropout", "GAN_PRESETS",
           "build_model", "build_on_meta", "build_seeded", "init_weights", "model_config", "model_from_weights",
           "use_generator"]
