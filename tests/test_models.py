import pytest
import torch

from imgai.models import (CNN, CNN_PRESETS, DCGAN, GAN_PRESETS, Dropout, build_model, build_seeded, model_config,
                          model_from_weights, use_generator)


@pytest.mark.parametrize("preset", CNN_PRESETS)
@pytest.mark.parametrize("channels,size,classes", [(1, 28, 10), (3, 32, 10), (3, 32, 4)])
def test_cnn_adapts_to_data(preset, channels, size, classes):
    model = CNN(CNN_PRESETS[preset](in_channels=channels, image_size=size, num_classes=classes))
    assert model(torch.randn(5, channels, size, size)).shape == (5, classes)


def test_textbook_cnn_is_the_tutorial_network():
    model = CNN(CNN_PRESETS["textbook"](in_channels=3, image_size=32, num_classes=10))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.padding) for c in convs] == [(32, (3, 3), (0, 0)), (64, (3, 3), (0, 0)), (64, (3, 3), (0, 0))]
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model.modules()) == 2
    dense = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(4 * 4 * 64, 64), (64, 10)]
    assert sum(p.numel() for p in model.parameters()) == 122_570  # the Keras tutorial's model.summary()


@pytest.mark.parametrize("preset", GAN_PRESETS)
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_dcgan_shapes(preset, channels, size):
    gan = DCGAN(GAN_PRESETS[preset](channels=channels, image_size=size))
    x = gan.generator(torch.randn(4, gan.config.nz))
    assert x.shape == (4, channels, size, size) and x.min() >= -1 and x.max() <= 1
    assert gan.discriminator(x).shape == (4, 1)


def test_textbook_dcgan_is_the_tutorial_network():
    gan = DCGAN(GAN_PRESETS["textbook"](channels=1, image_size=28))
    g_params = sum(p.numel() for p in gan.generator.parameters())
    d_params = sum(p.numel() for p in gan.discriminator.parameters())
    # the Keras tutorial's model.summary(): G 2,305,472 trainable (its BN moving averages are buffers here)
    assert g_params == 2_305_472
    assert d_params == 212_865


def test_build_model_rebuilds_from_config():
    gan = DCGAN(GAN_PRESETS["fast"](channels=3, image_size=32))
    again = build_model("dcgan", model_config(gan))
    again.load_state_dict(gan.state_dict(), strict=True)
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model("transformer", {})


@pytest.mark.parametrize("make", [lambda: CNN(CNN_PRESETS["fast"]()), lambda: DCGAN(GAN_PRESETS["textbook"]())],
                         ids=["cnn", "dcgan"])
def test_seeded_build_is_reproducible_and_leaves_the_global_rng_alone(make):
    state = torch.get_rng_state()
    a, b, c = build_seeded(make, 1), build_seeded(make, 1), build_seeded(make, 2)
    assert torch.equal(state, torch.get_rng_state())
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
    for m in a.modules():  # torch's default ranges: weights within ±1/sqrt(fan_in) (kaiming, a=√5), biases too
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            fan_in = torch.nn.init._calculate_fan_in_and_fan_out(m.weight)[0]
            assert m.weight.abs().max() <= fan_in ** -0.5 and m.weight.std() > 0.4 * fan_in ** -0.5
        if isinstance(m, torch.nn.BatchNorm2d):
            assert torch.equal(m.weight, torch.ones_like(m.weight)) and torch.equal(m.running_var, torch.ones_like(m.running_var))


def test_model_from_weights_builds_nothing_random_and_matches():
    model = build_seeded(lambda: CNN(CNN_PRESETS["fast"]()), 0).eval()
    state = torch.get_rng_state()
    again = model_from_weights("cnn", model_config(model), {k: v.clone() for k, v in model.state_dict().items()}).eval()
    assert torch.equal(state, torch.get_rng_state())
    x = torch.randn(3, 1, 28, 28)
    assert torch.equal(model(x), again(x))
    with pytest.raises(RuntimeError):
        model_from_weights("cnn", model_config(model), {})


def test_dropout_draws_from_its_generator_and_is_off_in_eval():
    d = Dropout(0.5)
    x = torch.ones(1000)
    masks = []
    for _ in range(2):
        use_generator(d, torch.Generator().manual_seed(3))
        torch.manual_seed(len(masks))  # the global RNG differs each time: the masks must not
        masks.append(d(x))
    assert torch.equal(masks[0], masks[1]) and set(masks[0].unique().tolist()) == {0.0, 2.0}
    assert 400 < int((masks[0] == 0).sum()) < 600
    use_generator(d, None)
    assert d(x).shape == x.shape                      # torch's own dropout without a generator
    assert torch.equal(d.eval()(x), x)


def test_minibatch_std_gives_d_the_spread_of_its_batch():
    from imgai.models.dcgan import MinibatchStd
    x = torch.randn(6, 3, 5, 5)
    out = MinibatchStd()(x)
    assert out.shape == (6, 4, 5, 5) and torch.equal(out[:, :3], x)
    assert torch.allclose(out[:, 3], x.std(0, unbiased=False).mean().expand(6, 5, 5))
    same = MinibatchStd()(x[:1].expand(6, -1, -1, -1))  # six copies of one picture: no spread at all
    assert same[:, 3].abs().max() == 0
    assert MinibatchStd()(x[:1])[:, 3].abs().max() == 0  # a batch of one is defined, not NaN


def test_minibatch_std_option_changes_only_d_and_is_off_by_default():
    off = DCGAN(GAN_PRESETS["fast"](channels=1, image_size=28))
    on = DCGAN(GAN_PRESETS["fast"](channels=1, image_size=28, d_minibatch_std=True))
    assert not off.config.d_minibatch_std
    assert on.discriminator.n_flat > off.discriminator.n_flat
    x = on.generator(torch.randn(4, on.config.nz))
    assert on.discriminator(x).shape == (4, 1)
    assert sum(p.numel() for p in on.generator.parameters()) == sum(p.numel() for p in off.generator.parameters())
