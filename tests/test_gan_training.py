"""DiffAugment, the generator's moving average, hinge loss and TTUR: shapes, determinism per seed, and that the
training loop applies them where the papers say (augmentation on real and fake, in the D and the G step)."""
import itertools
from dataclasses import replace

import pytest
import torch

import imgai.training.gan as gan_loop
from imgai.training.augment import cutout, diff_augment, translate
from imgai.training.averaging import GeneratorEMA
from imgai.training.gan_losses import d_loss, g_loss
from imgai.training.runs import RunSpec, default_train_config, prepare_run


def gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("fn", [translate, cutout, diff_augment])
@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (3, 3, 32, 32)])
def test_augmentations_keep_shape_and_repeat_per_seed(fn, shape):
    x = torch.rand(shape) * 2 - 1
    a, b, c = fn(x, gen(1)), fn(x, gen(1)), fn(x, gen(2))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_translation_moves_a_dot_by_at_most_an_eighth():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 14, 14] = 1.0
    y = translate(x, gen(0))
    pos = torch.stack([torch.nonzero(img[0])[0] for img in y])            # each dot's new (row, col)
    assert y.sum() == 64  # nothing lost: the dot never leaves the image
    assert (pos - 14).abs().max() <= 4 and (pos != 14).any()               # 28 / 8 = 3.5 → up to 4 px


def test_cutout_zeroes_one_square_of_half_the_size():
    y = cutout(torch.ones(64, 1, 28, 28), gen(0))
    zeros = (y == 0).sum((1, 2, 3))
    assert (zeros > 0).all() and (zeros <= 14 * 14).all() and (zeros == 14 * 14).any()


def test_gradient_flows_through_the_augmentation():
    x = torch.randn(4, 1, 28, 28, requires_grad=True)
    diff_augment(x, gen(0)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def small_run(digits, seed=0, **changes):
    cfg = replace(default_train_config("dcgan", "fast"), epochs=1, batch_size=16, seed=seed, sample_every=10**6,
                  **changes)
    data = replace(digits, train_x=digits.train_x[:64], train_y=digits.train_y[:64])
    return prepare_run(RunSpec("dcgan", train=cfg), data=data, device="cpu")


def test_diffaugment_sees_real_and_fake_in_both_steps(digits, monkeypatch):
    calls = []

    def spy(x, g):
        calls.append((x.requires_grad, x.grad_fn is not None))
        return diff_augment(x, g)
    monkeypatch.setattr(gan_loop, "diff_augment", spy)
    run = small_run(digits, diffaugment=True)
    list(itertools.islice((m for m in run.loop() if "loss_d" in m), 1))
    # one step: D's step on real (no graph) and on the detached fake, then G's step on the fake (with graph)
    assert calls[:3] == [(False, False), (False, False), (True, True)]


def test_diffaugment_runs_repeat_per_seed_and_differ_between_seeds(digits):
    def losses(seed):
        return [m["loss_d"] for m in small_run(digits, seed, diffaugment=True).loop() if "loss_d" in m]
    first = losses(3)
    assert len(first) == 4 and first == losses(3) and first != losses(4)


def test_ema_generator_is_what_samples_and_checkpoints_show(digits):
    run = small_run(digits, ema=0.9)
    before = [p.clone() for p in run.model.generator.parameters()]
    state = gan_loop.TrainState()
    list(run.loop(state))
    trained = list(state.optimizers[0].param_groups[0]["params"])   # what Adam updated: the private raw G
    shown = list(run.model.generator.parameters())                 # what grids, snapshots and checkpoints see
    assert not any(t is s for t in trained for s in shown)
    assert all(not s.requires_grad for s in shown)
    assert any(not torch.equal(b, s) for b, s in zip(before, shown))        # the average moved ...
    assert any(not torch.equal(t, s) for t, s in zip(trained, shown))       # ... but is not the raw G


def test_ema_update_is_the_moving_average():
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ema = GeneratorEMA(a, decay=0.5)
    ema.update(b, step=1000)  # warm-up over: the decay is 0.5
    assert torch.allclose(ema.model.weight, (a.weight + b.weight) / 2)


def test_hinge_and_bce_losses():
    real, fake = torch.tensor([[2.0], [0.5]]), torch.tensor([[-2.0], [0.0]])
    assert d_loss("hinge", real, fake).item() == pytest.approx((0 + 0.5) / 2 + (0 + 1) / 2)
    assert g_loss("hinge", fake).item() == pytest.approx(1.0)
    assert d_loss("bce", torch.full((2, 1), 20.0), torch.full((2, 1), -20.0)).item() < 1e-6


def test_ttur_gives_d_its_own_rate(digits):
    run = small_run(digits, d_lr_ratio=4.0, lr=1e-4)
    state = gan_loop.TrainState()
    next(m for m in run.loop(state) if "loss_d" in m)
    g_opt, d_opt = state.optimizers
    assert g_opt.param_groups[0]["lr"] == pytest.approx(1e-4) and d_opt.param_groups[0]["lr"] == pytest.approx(4e-4)


def test_unknown_gan_loss_is_one_clear_error(digits):
    with pytest.raises(ValueError, match="hinge"):
        next(small_run(digits, gan_loss="wasserstein").loop())


def test_class_balance_loss_is_zero_at_the_prior_and_grows_with_favourites():
    from imgai.training.gan_losses import class_balance_loss
    prior = torch.tensor([0.5, 0.25, 0.25])
    matching = torch.log(prior).expand(8, 3)                      # every fake's classes at the data's shares
    assert class_balance_loss(matching, prior).item() == pytest.approx(0, abs=1e-6)
    one_class = torch.tensor([[9.0, -9.0, -9.0]]).expand(8, 3)    # every fake the same class
    spread = torch.eye(3).repeat(3, 1)[:8] * 9                    # fakes confident, but of different classes
    assert class_balance_loss(one_class, prior) > class_balance_loss(spread, prior) > 0


def test_class_aware_d_judges_real_by_the_logsumexp_of_its_class_logits():
    from imgai.models import DCGAN, GAN_PRESETS
    gan = DCGAN(GAN_PRESETS["fast"](channels=1, image_size=28, d_classes=10))
    x = torch.randn(5, 1, 28, 28)
    real, classes = gan.discriminator.real_and_classes(x)
    assert real.shape == (5, 1) and classes.shape == (5, 10)
    assert torch.allclose(real, classes.logsumexp(1, keepdim=True)) and torch.allclose(gan.discriminator(x), real)
    plain = DCGAN(GAN_PRESETS["fast"](channels=1, image_size=28))
    assert plain.discriminator.real_and_classes(x)[1] is None


def test_fast_preset_d_names_the_data_sets_classes_and_the_loop_trains_it(digits, monkeypatch):
    calls = {"ce": [], "balance": []}
    ce, balance = gan_loop.F.cross_entropy, gan_loop.class_balance_loss
    monkeypatch.setattr(gan_loop.F, "cross_entropy", lambda lg, y, **k: calls["ce"].append((lg.shape, y)) or ce(lg, y, **k))
    monkeypatch.setattr(gan_loop, "class_balance_loss", lambda lg, p: calls["balance"].append((lg.shape, p)) or balance(lg, p))
    run = small_run(digits)
    assert run.model.config.d_classes == len(digits.class_names)
    list(itertools.islice((m for m in run.loop() if "loss_d" in m), 2))
    (shape, y), = calls["ce"][:1]
    assert shape == (16, 10) and y.min() >= 0 and y.max() < 10    # D's step: the real batch's own labels
    shape, prior = calls["balance"][0]
    assert shape == (16, 10) and prior.sum().item() == pytest.approx(1)  # G's step: the fakes against the data's shares
    assert len(calls["ce"]) == len(calls["balance"]) == 2


def test_class_aware_d_refuses_a_wrong_class_count_and_leaves_other_gans_plain(digits):
    from imgai.training.runs import SettingsError, build_for_data
    with pytest.raises(SettingsError, match="d_classes"):
        build_for_data("dcgan", "fast", digits, {"d_classes": 3})
    assert build_for_data("dcgan", "fast", digits, {"d_classes": 0}).config.d_classes == 0
    assert build_for_data("dcgan", "textbook", digits).config.d_classes == 0   # the tutorial's D, untouched
    assert build_for_data("cdcgan", "fast", digits).config.d_classes == 0      # the conditional GAN's own D
    assert default_train_config("dcgan", "textbook").ema == 0          # the tutorial's training, untouched
