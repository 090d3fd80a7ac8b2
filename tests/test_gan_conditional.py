"""The class-conditional GAN: model, training, checkpoint, `generate --label`, and the Latent space page's
class picker and one-row-per-class grid."""
import json
from pathlib import Path
from dataclasses import replace

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from imgai.models.checkpoint import load_checkpoint, save_checkpoint
from imgai.cli import main
from imgai.models import CDCGAN, GAN_PRESETS, build_model, model_config
from imgai.models.cdcgan import FixedClass, class_loss, conditional
from imgai.training.presets import PRESETS
from imgai.training.runs import RunSpec, build_for_data, default_train_config, prepare_run
from imgai.models.sampling import sample_images


@pytest.mark.parametrize("preset", GAN_PRESETS)
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_conditional_shapes(preset, channels, size):
    gan = CDCGAN(conditional(GAN_PRESETS[preset](channels=channels, image_size=size), n_classes=4))
    y = torch.tensor([0, 1, 2, 3])
    x = gan.generator(torch.randn(4, gan.config.nz), y)
    assert x.shape == (4, channels, size, size) and gan.discriminator(x, y).shape == (4, 1)


def test_the_label_changes_the_picture_and_the_verdict():
    torch.manual_seed(0)
    gan = CDCGAN(conditional(GAN_PRESETS["fast"](channels=1, image_size=28), n_classes=10)).eval()
    z = torch.randn(1, gan.config.nz).repeat(2, 1)
    y = torch.tensor([3, 7])
    x = gan.generator(z, y)
    assert not torch.equal(x[0], x[1])
    same = x[:1].repeat(2, 1, 1, 1)
    d = gan.discriminator(same, y)
    assert d[0] != d[1]  # the projection: D's verdict on one image depends on the class it is said to be


def test_fixed_class_draws_one_class():
    gan = CDCGAN(conditional(GAN_PRESETS["fast"](channels=1, image_size=28), n_classes=10)).eval()
    z = torch.randn(3, gan.config.nz)
    assert torch.equal(FixedClass(gan.generator, 7)(z), gan.generator(z, torch.full((3,), 7)))



def test_the_class_head_reads_d_features_in_the_same_pass():
    gan = CDCGAN(conditional(GAN_PRESETS["fast"](channels=1, image_size=28), n_classes=10, aux_weight=1.0)).eval()
    x, y = torch.randn(5, 1, 28, 28), torch.tensor([0, 1, 2, 3, 9])
    logit, cls = gan.discriminator.judge(x, y)
    assert logit.shape == (5, 1) and cls.shape == (5, 10)
    assert torch.equal(logit, gan.discriminator(x, y))  # the head leaves D's real/fake verdict as it was
    plain = CDCGAN(conditional(GAN_PRESETS["fast"](channels=1, image_size=28), n_classes=10)).discriminator
    assert plain.classify is None and plain.judge(x, y)[1] is None
    assert not any("classify" in k for k in plain.state_dict())  # checkpoints without the head load as before



@pytest.mark.parametrize("overrides", [{}, {"d_spectral_norm": True}])
def test_a_seeded_build_keeps_the_projections_small_initial_weights(digits, overrides):
    """The projection's embedding starts at N(0, 0.02) in a seeded build too (imgai.models.init_weights): at
    N(0, 1) its sum over D's features swamped the "real?" logit and the fast run collapsed to one picture a class."""
    D = build_for_data("cdcgan", "fast", digits, overrides).discriminator
    w = D.embed.parametrizations.weight.original if overrides else D.embed.weight
    assert 0.015 < float(w.std()) < 0.025

def test_class_loss_is_weighted_cross_entropy():
    logits, y = torch.tensor([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]]), torch.tensor([0, 2])
    want = torch.nn.functional.cross_entropy(logits, y)
    assert torch.allclose(class_loss(logits, y, 0.5), 0.5 * want)
    assert class_loss(None, y, 1.0) == 0.0 and class_loss(logits, y, 0.0) == 0.0


def _aux_run(digits, seed, steps=20, aux=1.0):
    """A tiny run with the class head: 80 digits, batch 16; returns the model and D's head's loss on them."""
    cfg = replace(default_train_config("cdcgan", "fast"), epochs=steps / 5, batch_size=16, seed=seed,
                  sample_every=10_000, ema=0.0)
    data = replace(digits, train_x=digits.train_x[:80], train_y=digits.train_y[:80])
    run = prepare_run(RunSpec("cdcgan", train=cfg, model_overrides={"aux_weight": aux}), data=data, device="cpu")
    D, x, y = run.model.discriminator, data.train_x.float() / 127.5 - 1, data.train_y

    def head_loss():
        with torch.no_grad():
            cls = D.eval().judge(x, y)[1]
        return None if cls is None else torch.nn.functional.cross_entropy(cls, y).item()

    before = head_loss()
    list(run.loop())
    return run.model, before, head_loss()


def test_the_class_head_learns_the_real_labels(digits):
    _, before, after = _aux_run(digits, seed=0)
    assert after < 0.5 * before  # from chance (about ln 10) towards naming the real digits


def test_the_class_head_pulls_g_towards_the_asked_class(digits):
    """G's step includes the head's cross-entropy on the fakes: the same run without it ends elsewhere."""
    with_head, _, _ = _aux_run(digits, seed=0, steps=5)
    without, _, _ = _aux_run(digits, seed=0, steps=5, aux=0.0)
    w1, w0 = with_head.generator.state_dict(), without.generator.state_dict()
    assert not all(torch.equal(w1[k], w0[k]) for k in w1)


def test_a_run_with_the_class_head_is_repeatable_per_seed(digits):
    a, _, _ = _aux_run(digits, seed=3, steps=5)
    b, _, _ = _aux_run(digits, seed=3, steps=5)
    c, _, _ = _aux_run(digits, seed=4, steps=5)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_the_fast_preset_builds_its_conditional_settings(digits):
    cfg = build_for_data("cdcgan", "fast", digits).config
    assert all(getattr(cfg, k) == v for k, v in PRESETS[("cdcgan", "fast")].conditional.items())
    assert build_for_data("cdcgan", "textbook", digits).config.aux_weight == PRESETS[("cdcgan", "textbook")].conditional.get(
        "aux_weight", 0.0)

@pytest.fixture(scope="module")
def trained(digits, tmp_path_factory):
    """A class-conditional GAN trained for a few steps through the run machinery, saved as a checkpoint."""
    cfg = replace(default_train_config("cdcgan", "fast"), epochs=1, batch_size=16, sample_every=3)
    data = replace(digits, train_x=digits.train_x[:80], train_y=digits.train_y[:80])
    run = prepare_run(RunSpec("cdcgan", train=cfg), data=data, device="cpu")
    events = list(run.loop())
    path = save_checkpoint(tmp_path_factory.mktemp("cgan") / "tiny-cdcgan", run.model, {**run.meta, "step": 5})
    return run, events, path


def test_training_yields_grids_with_a_column_per_class(trained):
    run, events, _ = trained
    grids = [e for e in events if e.get("event") == "samples"]
    assert [g["step"] for g in grids] == [0, 3, 5] and grids[-1]["images"].shape == (100, 28, 28, 1)
    assert len([m for m in events if "loss_d" in m]) == 5
    assert run.meta["kind"] == "cdcgan" and run.model.config.n_classes == 10


def test_checkpoint_round_trip_gives_identical_samples(trained):
    run, _, path = trained
    gan, meta = load_checkpoint(path)
    assert meta["kind"] == "cdcgan"
    z, y = torch.randn(4, gan.config.nz), torch.tensor([0, 4, 7, 9])
    assert np.array_equal(sample_images(gan.generator, z, y), sample_images(run.model.generator, z, y))
    rebuilt = build_model("cdcgan", model_config(gan))
    assert rebuilt.load_state_dict(gan.state_dict(), strict=True)


def test_generate_label_writes_that_class(trained, tmp_path, capsys):
    _, _, path = trained
    gan, _ = load_checkpoint(path)
    assert main(["generate", "--weights", str(path), "--label", "7", "--n", "5", "--seed", "2",
                 "--out", str(tmp_path / "sevens.npy")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["label"] == "7" and line["n"] == 5
    got = np.load(tmp_path / "sevens.npy")
    from imgai.inference.latent import seed_latents
    want = sample_images(gan.generator, seed_latents(2, 5, gan.config.nz), torch.full((5,), 7))[..., 0]
    assert got.shape == (5, 28, 28) and np.array_equal(got, want)


def test_generate_label_refusals_are_one_line(trained, tmp_path, capsys):
    _, _, path = trained
    assert main(["generate", "--weights", str(path), "--label", "eleven", "--out", str(tmp_path / "x.npy")]) == 2
    assert "not a class of this model" in capsys.readouterr().err
    from imgai.models.checkpoint import WEIGHTS_DIR
    assert main(["generate", "--weights", str(WEIGHTS_DIR / "digits-dcgan"), "--label", "3",
                 "--out", str(tmp_path / "y.npy")]) == 2
    assert "needs a class-conditional GAN" in capsys.readouterr().err


def test_latent_page_has_a_class_picker_and_a_row_per_class(trained, monkeypatch):
    _, _, path = trained
    monkeypatch.setenv("IMGAI_MODELS", str(path.parent))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app_pages" / "latent.py"), default_timeout=120)
    at.query_params.update({"gen": path.name})
    at.run()
    assert not at.exception, at.exception
    picker = at.selectbox(key="latent_class")
    assert picker.value == 0 and len(picker.options) == 10
    assert any("One row per class" in m.value for m in at.markdown)
    picker.set_value(7).run()
    assert not at.exception and at.selectbox(key="latent_class").value == 7


def test_the_train_page_trains_the_conditional_gan_with_its_preset():
    """The Train page's cdcgan run is the fast preset's (class head included) and ends with a grid per class."""
    import time

    from ui.jobs import registry
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app_pages" / "train.py"),
                           default_timeout=60).run()
    at.radio(key="train_model").set_value("cdcgan")
    at.radio(key="train_preset").set_value("fast")
    at.run()
    at.radio(key="knob_length_cdcgan_fast").set_value("seconds").run()
    at.number_input(key="knob_seconds_cdcgan_fast").set_value(2).run()
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    job = registry().get(at.session_state["imgai_job_id"])
    try:
        t0 = time.monotonic()
        while not any("finished" in s.value for s in at.success):
            assert time.monotonic() - t0 < 45, "the run did not finish"
            time.sleep(0.3)
            at.run()
            assert not at.exception, at.exception
        assert job.meta["kind"] == "cdcgan"
        assert all(job.meta["config"][k] == v for k, v in PRESETS[("cdcgan", "fast")].conditional.items())
        assert job.grid_history()[-1][1].shape[0] == 100  # ten columns, one class each
    finally:
        job.stop()
        job.wait(10)


def test_the_fast_preset_is_the_setting_the_bench_chose():
    """imgai.training.presets' cdcgan fast preset is bench_cgan's "aux+ema" (bench/results/gan-conditional.json)."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from bench_cgan import SETTINGS
    train, model = SETTINGS["aux+ema"]
    preset = default_train_config("cdcgan", "fast")
    assert {k: getattr(preset, k) for k in train} == train and PRESETS[("cdcgan", "fast")].conditional == model


def test_the_latent_link_keeps_the_conditional_gans_class(trained, monkeypatch):
    """The page promises the address holds everything: the chosen class, too."""
    _, _, path = trained
    monkeypatch.setenv("IMGAI_MODELS", str(path.parent))
    page = str(Path(__file__).resolve().parent.parent / "app_pages" / "latent.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.query_params.update({"gen": path.name})
    at.run()
    at.selectbox(key="latent_class").set_value(7).run()
    assert not at.exception and at.query_params["cls"] == "7"
    opened = AppTest.from_file(page, default_timeout=120)
    opened.query_params.update(dict(at.query_params))   # someone opens the shared link
    opened.run()
    assert not opened.exception and opened.selectbox(key="latent_class").value == 7


def test_the_conditional_gan_is_judged_against_the_class_it_was_asked_for():
    """Drawing only the chosen class is what a conditional GAN is asked to do, not mode collapse."""
    page = str(Path(__file__).resolve().parent.parent / "app_pages" / "latent.py")
    at = AppTest.from_file(page, default_timeout=120)
    at.query_params.update({"gen": "digits-cdcgan", "clf": "digits-cnn", "tab": "classifier", "cls": "7"})
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "Mode collapse" not in shown and "Uneven" not in shown
    assert "Asked for '7', the classifier reads **" in shown and " samples as '7'" in shown
