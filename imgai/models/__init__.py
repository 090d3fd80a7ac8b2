"""Model registry: every kind of model a checkpoint can hold, rebuilt from its config dict alone.

    model = build_model("cnn", {"in_channels": 1, "image_size": 28, "num_classes": 10})
"""
from dataclasses import asdict

import torch.nn as nn

from .cnn import CNN, CNN_PRESETS, CNNConfig
from .cdcgan import CDCGAN, CDCGANConfig
from .dcgan import DCGAN, GAN_PRESETS, DCGANConfig


def _photo_head(config: dict) -> nn.Module:
    from ..photo import PhotoHead, PhotoHeadConfig  # lazy: the ImageNet package is only needed for photos
    return PhotoHead(PhotoHeadConfig(**config))


BUILDERS = {
    "cnn": lambda config: CNN(CNNConfig(**config)),
    "dcgan": lambda config: DCGAN(DCGANConfig(**config)),
    "cdcgan": lambda config: CDCGAN(CDCGANConfig(**config)),
    "photo-head": _photo_head,
}


def build_model(kind: str, config: dict) -> nn.Module:
    if kind not in BUILDERS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(BUILDERS)}")
    return BUILDERS[kind](config)


def model_config(model: nn.Module) -> dict:
    return asdict(model.config)


__all__ = ["CDCGAN", "CDCGANConfig", "CNN", "CNNConfig", "CNN_PRESETS", "DCGAN", "DCGANConfig", "GAN_PRESETS", "build_model", "model_config"]
