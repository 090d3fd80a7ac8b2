"""One way to classify an image with any model imgai knows: a trained checkpoint or the ImageNet network.

    clf = load_classifier("weights/digits-cnn"); clf.predict(open_image("photo.jpg"))["label"]

The CLI and the Classify page both go through Classifier.prepare, so they give the same answer for
the same file: the same intake (digit recipe or fit), the same normalisation, the same model.
"""

import numpy as np
import torch

from imgai.models.checkpoint import CheckpointError, checkpoint_base, load_checkpoint
from imgai.data.datasets import normalize
from imgai.data.digit_photo import digit_from_photo
from imgai.data.intake import fit_image
from imgai.models.tta import TTA_MODES, tta_logits

IMAGENET = "imagenet"  # the name of the built-in photo model in pickers and on the command line


class Classifier:
    def __init__(self, name: str, model: torch.nn.Module, meta: dict):
        self.name, self.model, self.meta = name, model.eval(), meta
        self.class_names = list(meta["class_names"])
        self.intake = meta.get("intake", "fit")
        # the test-time augmentation the checkpoint was scored with (imgai.models.tta); older ones: none
        self.tta = meta.get("tta", "none")
        if self.tta not in TTA_MODES:
            raise CheckpointError(f"{name}: unknown test-time augmentation {self.tta!r} in its description "
                                  f"(expected {', '.join(TTA_MODES)})")

    def prepare(self, img) -> torch.Tensor:
        """PIL image → (1, C, H, W): the model's actual input."""
        if self.intake == "photo":
            from imgai.models.imagenet import imagenet_input
            return imagenet_input(img)
        if self.intake == "digit":
            pixels = digit_from_photo(img)[None, :, :, None]            # (1, 28, 28, 1)
        else:
            pixels = fit_image(img, self.meta["image_size"], self.meta["channels"])[None]
            pixels = pixels if pixels.ndim == 4 else pixels[..., None]
        x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2)
        return normalize(x, self.meta["mean"], self.meta["std"])

    def preview(self, x: torch.Tensor) -> np.ndarray:
        """The model's input as a uint8 image (H, W) or (H, W, 3), to show what the model saw."""
        if self.intake == "photo":
            from imgai.models.imagenet import imagenet_preview
            return imagenet_preview(x)
        m = torch.tensor(self.meta["mean"]).view(-1, 1, 1)
        s = torch.tensor(self.meta["std"]).view(-1, 1, 1)
        img = ((x.detach()[0].cpu() * s + m).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        return img[..., 0] if img.shape[2] == 1 else img

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(tta_logits(self.model, x, self.tta), dim=1)[0]

    def predict(self, img, top: int = 5) -> dict:
        return self.predict_input(self.prepare(img), top)

    def predict_input(self, x: torch.Tensor, top: int = 5) -> dict:
        p = self.probabilities(x)
        probs, idx = p.topk(min(max(1, top), len(p)))
        ranked = [[self.class_names[i], round(float(q), 6)] for q, i in zip(probs.tolist(), idx.tolist())]
        return {"label": ranked[0][0], "prob": ranked[0][1], "top": ranked}


def load_classifier(weights: str) -> Classifier:
    """A checkpoint path (with or without extension) or "imagenet"."""
    if weights == IMAGENET:
        from imgai.models.imagenet import IMAGENET_CLASSES, IMAGE_SIZE, INPUT_MEAN, INPUT_STD, load_imagenet_model
        meta = {"kind": "imagenet", "dataset": "ImageNet", "class_names": IMAGENET_CLASSES, "intake": "photo",
                "image_size": IMAGE_SIZE, "channels": 3, "mean": list(INPUT_MEAN), "std": list(INPUT_STD)}
        return Classifier(IMAGENET, load_imagenet_model(), meta)
    model, meta = load_checkpoint(weights)
    if meta["kind"] == "photo-head":
        from imgai.models.imagenet import PhotoClassifier, load_imagenet_model
        model = PhotoClassifier(load_imagenet_model(), model)
    elif meta["kind"] != "cnn":
        raise CheckpointError(f"{weights} is a {meta['kind']} model, not a classifier")
    return Classifier(checkpoint_base(weights).name, model, meta)  # "run.v2" keeps its dot: only extensions go
