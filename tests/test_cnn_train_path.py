"""The CNN's training-mode forward (each block's ReLU after its max-pool) is the plain Sequential network:
same logits and same gradients, bit for bit, for both presets; eval mode runs the blocks as built."""
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from imgai.models import CNN, CNN_PRESETS


@pytest.mark.parametrize("preset,channels,size", [("textbook", 3, 32), ("fast", 1, 28), ("fast", 3, 32)])
def test_training_forward_equals_the_sequential_network(preset, channels, size):
    torch.manual_seed(0)
    # no dropout: its random masks would differ between the two passes
    model = CNN(replace(CNN_PRESETS[preset](in_channels=channels, image_size=size), dropout=0.0)).train()
    x, y = torch.randn(8, channels, size, size), torch.arange(8) % 10
    x[0] = -1.0  # a picture whose first block sees only negative values in many windows (ReLU gives all zeros)
    params = [p for p in model.parameters() if p.requires_grad]  # colour: the whitening conv is frozen
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params)
    # the blocks as built: ReLU, then pool (and the colour network's logit scale)
    ref_loss = F.cross_entropy(model.classifier(model.features(x)) * model.config.logit_scale, y)
    ref_grads = torch.autograd.grad(ref_loss, params)
    assert torch.equal(loss, ref_loss)
    assert all(torch.equal(g, r) for g, r in zip(grads, ref_grads))


def test_eval_mode_runs_the_blocks_as_built():
    model = CNN(CNN_PRESETS["textbook"](in_channels=3, image_size=32)).eval()
    seen = []
    hooks = [b.register_forward_hook(lambda m, i, o: seen.append(type(m).__name__)) for b in model.features]
    with torch.no_grad():
        model(torch.randn(2, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert seen == [type(b).__name__ for b in model.features]
