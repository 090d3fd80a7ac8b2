import pytest
import torch

from imgai.models import CNN, CNN_PRESETS, DCGAN, GAN_PRESETS, build_model, model_config


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
