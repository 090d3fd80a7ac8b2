"""imgai.inference.familiarity: a picture unlike the training pictures is flagged, real digits seldom are."""
import numpy as np
import pytest
import torch
from PIL import Image

from image_corpus import phone_photo
from imgai.data.datasets import load_dataset
from imgai.data.intake import open_image
from imgai.inference.classify import load_classifier
from imgai.inference.familiarity import PERCENTILE, fit_familiarity


@pytest.fixture(scope="module")
def digits():
    clf = load_classifier("weights/digits-cnn")
    return clf, fit_familiarity(clf)


def flagged(clf, fam, pictures) -> float:
    return float(np.mean([not fam.judge(clf, clf.prepare(p))["familiar"] for p in pictures]))


def test_photos_of_other_things_are_flagged(digits):
    clf, fam = digits
    cifar = load_dataset("cifar10-5k")
    photos = [Image.fromarray(x.permute(1, 2, 0).numpy()) for x in cifar.val_x[:150]]
    assert flagged(clf, fam, photos) > 0.6
    cat = fam.judge(clf, clf.prepare(open_image("tests/photos/chelsea.jpg")))
    assert not cat["familiar"] and cat["score"] > cat["threshold"]


def test_digits_it_never_saw_are_seldom_flagged(digits):
    """Phone photos made from held-out digits (paper, light, blur): not the training pictures' look, yet digits."""
    clf, fam = digits
    d = load_dataset("digits")
    rng = np.random.default_rng(5)
    photos = [open_image(phone_photo(d.val_x[i, 0].numpy(), rng)) for i in range(60)]
    assert flagged(clf, fam, photos) <= 0.1
    assert fam.held_out == len(d.val_x) and PERCENTILE == 99.0


def test_a_blank_picture_is_called_blank(digits):
    clf, fam = digits
    verdict = fam.judge(clf, clf.prepare(Image.new("RGB", (200, 200), "white")))
    assert verdict["blank"] and not verdict["familiar"]


def test_models_without_their_training_pictures_here_get_no_verdict(tmp_path):
    clf = load_classifier("weights/digits-cnn")
    clf.meta = {**clf.meta, "dataset": "folder:/gone/classes.zip"}
    assert fit_familiarity(clf) is None
    assert fit_familiarity(load_classifier("imagenet")) is None
