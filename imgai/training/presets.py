"""What each (model, preset) pair means, in one place: its network, its training settings, and what changes for
colour images. The Train page, the CLI, the benchmarks and the tests all read runs from here.

    p = PRESETS[("dcgan", "fast")]; p.train.lr, p.network(channels=1, image_size=28), p.class_aware_d

"fast" presets are tuned on a 2-core CPU (bench/results/*.json say how each choice was measured);
"textbook" ones are the Keras tutorials' own.
"""
from dataclasses import dataclass, field, replace
from typing import Callable

from imgai.models import cnn, dcgan
from imgai.training.config import TrainConfig

COLOUR_DATASETS = {"cifar10-5k", "cifar10"}  # and every folder:PATH (imgai.data.folder loads photos in colour)


@dataclass(frozen=True)
class Preset:
    network: Callable             # (**sizes) -> the model's config: imgai.models.cnn.fast, dcgan.textbook, ...
    train: TrainConfig            # the training settings
    colour_train: TrainConfig | None = None   # instead of `train` on colour images (3 channels), if set
    conditional: dict = field(default_factory=dict)  # the class-conditional GAN's own settings (CDCGANConfig)
    class_aware_d: bool = False   # D also names the real images' classes (DCGANConfig.d_classes, sized to the data)

    def train_for(self, channels: int | None) -> TrainConfig:
        """A fresh copy of the training settings for images of this many channels."""
        return replace(self.colour_train if channels == 3 and self.colour_train else self.train)


# The GAN's fast training, as measured for the class-conditional GAN and shared by the plain one: Adam with the
# DCGAN paper's beta1 0.5 but 2.5x its rate, small batches (more updates per second on a CPU) and one-sided label
# smoothing; samples from a moving average of G. DiffAugment, hinge + spectral norm and TTUR stay off: at a 60-s
# budget none of them, alone or together, lowered the Fréchet distance (bench/results/gan.json).
GAN_FAST = TrainConfig(epochs=30, batch_size=32, lr=5e-4, beta1=0.5, schedule="constant", augment=False,
                       label_smoothing=0.1, sample_every=100, ema=0.999)
# the MNIST DCGAN tutorial: EPOCHS=50, BATCH_SIZE=256, Adam(1e-4) for both networks
GAN_TEXTBOOK = TrainConfig(epochs=50, batch_size=256, lr=1e-4, beta1=0.9, schedule="constant", augment=False,
                           sample_every=20)

PRESETS = {
    # 8 epochs with a one-cycle schedule (time to 98% on digits: bench/results/cnn.json). On colour images the
    # whitened network (imgai.models.cnn.whitened) trained the airbench way (Jordan 2024): Nesterov SGD at
    # airbench's rates (lr 11.5 per 1024 examples of a summed loss with momentum 0.85 is 0.375 for the mean loss
    # of a batch of 256, weight decay 0.0153 / 11.5), label smoothing 0.2, alternating flips and 2-px moves, a
    # lookahead average of the weights, scored (and answered in Classify) with flips and 1-px moves. Measured
    # lever by lever in bench/results/cifar.json: airbench's batch norm without scale and with 64x faster biases
    # (bn_bias_lr_scale) was the one lever whose removal scored higher, so it is left out.
    ("cnn", "fast"): Preset(
        network=cnn.fast,
        train=TrainConfig(epochs=8, batch_size=64, lr=3e-3, schedule="onecycle", augment=True),
        colour_train=TrainConfig(epochs=10, batch_size=256, optimizer="sgd", lr=0.375, momentum=0.85,
                                 weight_decay=0.0153 / 11.5, schedule="triangle", augment=True,
                                 augment_style="flip-translate", label_smoothing=0.2, lookahead=True,
                                 tta="flip-translate")),
    # the CIFAR-10 tutorial: model.fit(epochs=10) with Keras defaults (batch 32, Adam 1e-3)
    ("cnn", "textbook"): Preset(
        network=cnn.textbook,
        train=TrainConfig(epochs=10, batch_size=32, lr=1e-3, schedule="constant", augment=False)),
    # GAN_FAST plus a class-aware D: on digits that is what lowered the distance after a minute (bench/results/gan.json)
    ("dcgan", "fast"): Preset(network=dcgan.fast, train=GAN_FAST, class_aware_d=True),
    ("dcgan", "textbook"): Preset(network=dcgan.textbook, train=GAN_TEXTBOOK),
    # the class-conditional GAN: GAN_FAST with D's auxiliary class head; at 120 CPU-s over 3 seeds the digits CNN
    # read every asked digit >= 95% only with both the head and G's moving average
    # (bench/results/gan-conditional.json). Its grids show ten columns, one class each.
    ("cdcgan", "fast"): Preset(network=dcgan.fast, train=replace(GAN_FAST, n_samples=100),
                               conditional={"aux_weight": 1.0}),
    # textbook: the tutorial's networks and settings with the plain projection discriminator
    ("cdcgan", "textbook"): Preset(network=dcgan.textbook, train=replace(GAN_TEXTBOOK, n_samples=100)),
}


def is_colour(dataset: str) -> bool:
    """Is this data set colour images, known from its name alone (the CNN's fast preset differs for colour)?"""
    return dataset in COLOUR_DATASETS or dataset.startswith("folder:")
