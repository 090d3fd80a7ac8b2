"""Test-time augmentation: a classifier's answer as the weighted mean of its logits over moved copies of the image.

    logits = tta_logits(model, x, "flip-translate")   # x: (B, C, H, W) normalised

The validation score a run records (imgai.training.classifier.evaluate) and the Classify page's answer
(imgai.inference.classify.Classifier) both come from here, with the mode the checkpoint was scored with
(its description's "tta"), so a shipped figure is the accuracy of exactly what Classify does.

Modes (airbench's tta levels 0, 1, 2):
  none            the image as it is
  flip            half the image, half its mirror image
  flip-translate  half `flip`, a quarter each `flip` of the image moved 1 px up-left and 1 px down-right
                  (the border filled by reflection, as the training translations are)
"""
import torch
import torch.nn.functional as F

TTA_MODES = ("none", "flip", "flip-translate")


class TTAError(ValueError):
    """An unknown mode; str(e) is one line."""


def check_mode(mode: str) -> str:
    if mode not in TTA_MODES:
        raise TTAError(f"unknown test-time augmentation {mode!r}: choose {', '.join(TTA_MODES)}")
    return mode


def n_views(mode: str) -> int:
    """How many copies of each image a mode puts through the model."""
    return {"none": 1, "flip": 2, "flip-translate": 6}[check_mode(mode)]


def tta_views(x: torch.Tensor, mode: str) -> list[tuple[float, torch.Tensor]]:
    """(weight, view) pairs whose weights sum to 1: the copies of x (B, C, H, W) a mode looks at."""
    check_mode(mode)
    if mode == "none":
        return [(1.0, x)]
    both = lambda v, w: [(w / 2, v), (w / 2, v.flip(-1))]
    if mode == "flip":
        return both(x, 1.0)
    H, W = x.shape[-2:]
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    up_left, down_right = padded[..., :H, :W], padded[..., 2:, 2:]
    return both(x, 0.5) + both(up_left, 0.25) + both(down_right, 0.25)


def tta_logits(model: torch.nn.Module, x: torch.Tensor, mode: str = "none") -> torch.Tensor:
    """The weighted mean of model(view) over the mode's views: (B, classes). All views go through the model
    as one batch (one pass is cheaper than six on a CPU); call in eval mode, under torch.no_grad() if no
    gradient is needed."""
    views = tta_views(x, mode)
    if len(views) == 1:
        return model(x)
    out = model(torch.cat([v for _, v in views]))            # (len(views) * B, classes)
    B = x.shape[0]
    return sum(w * out[i * B:(i + 1) * B] for i, (w, _) in enumerate(views))
