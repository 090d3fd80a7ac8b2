"""Every command end to end on the bundled digits, as a user runs them: a subprocess, stdout JSON lines."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from checkpoint_corpus import CORPUS, make

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CNN, SHIPPED_GAN = ROOT / "weights" / "digits-cnn", ROOT / "weights" / "digits-dcgan"


def imgai(*args, check=True):
    env = {**os.environ, "IMGAI_THREADS": "1"}
    p = subprocess.run([sys.executable, "-m", "imgai", *map(str, args)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr[-2000:]}")
    return p


def last_json(p):
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A CNN and a GAN trained for a few seconds each through the CLI itself."""
    out = tmp_path_factory.mktemp("cli")
    cnn = last_json(imgai("train", "--model", "cnn", "--dataset", "digits", "--epochs", "0.3", "--batch-size", "64",
                          "--seed", "1", "--out", out / "cnn"))
    gan = last_json(imgai("train", "--model", "dcgan", "--dataset", "digits", "--seconds", "2", "--out", out / "gan"))
    return out, cnn, gan


def test_train_summarises_the_run_on_the_last_line(trained):
    out, cnn, gan = trained
    assert cnn["model"] == "cnn" and cnn["dataset"] == "digits" and cnn["steps"] == 21
    assert 0.3 < cnn["val_acc"] <= 1 and cnn["images_per_s"] > 0 and cnn["checkpoint"] == str(out / "cnn")
    assert gan["model"] == "dcgan" and gan["steps"] > 0 and {"loss_d", "loss_g"} <= set(gan)
    for name in ("cnn", "gan"):
        assert (out / f"{name}.safetensors").exists() and (out / f"{name}.json").exists()


def test_train_shows_progress_on_stderr_only(tmp_path):
    p = imgai("train", "--model", "cnn", "--epochs", "0.05", "--out", tmp_path / "m")
    assert len(p.stdout.strip().splitlines()) == 1  # stdout is the JSON summary alone
    assert "%" in p.stderr or "‰" in p.stderr


def test_train_refuses_bad_arguments_with_one_line(tmp_path):
    p = imgai("train", "--model", "cnn", "--dataset", "nope", "--epochs", "1", "--out", tmp_path / "m", check=False)
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "nope" in p.stderr
    p = imgai("train", "--model", "cnn", "--epochs", "inf", "--out", tmp_path / "m", check=False)
    assert p.returncode == 2 and p.stderr.strip() == "error: epochs must be between 0.01 and 1000, not inf"
    assert not list(tmp_path.iterdir())


def run_main(capsys, *args):
    """The CLI in this process (no interpreter start-up): exit code, stdout, stderr."""
    from imgai.cli import main
    try:
        rc = main([str(a) for a in args])
    except SystemExit as e:  # argparse's refusals
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


ABSURD = [  # the settings of issue 9, and what the one line says
    (["--epochs", "inf"], "epochs must be between 0.01 and 1000, not inf"),
    (["--seconds", "1e9"], "seconds must be between 1 and 86400, not 1e+09"),
    (["--seconds", "1e-9"], "seconds must be between 1 and 86400, not 1e-09"),
    (["--batch-size", "100000000"], "batch size must be between 2 and 4096, not 100000000"),
    (["--epochs", "nan"], "epochs must be a number, not NaN"),
    (["--lr", "NaN"], "learning rate must be a number, not NaN"),
    (["--lr", "-1"], "learning rate must be between 1e-06 and 10, not -1"),
    (["--weight-decay", "7"], "weight decay must be between 0 and 1, not 7"),
    (["--batch-size", "1e8"], "argument --batch-size: not a whole number: 1e8"),
    (["--seed", "-3"], "seed must be between 0 and"),
]


@pytest.mark.parametrize("args,says", ABSURD, ids=[" ".join(a) for a, _ in ABSURD])
def test_train_refuses_absurd_settings_in_one_line_before_anything_runs(capsys, tmp_path, monkeypatch, args, says):
    monkeypatch.setattr("imgai.training.runs.load_dataset", lambda *a: pytest.fail("the data was loaded"))
    rc, out, err = run_main(capsys, "train", "--model", "cnn", *args, "--out", tmp_path / "m")
    assert rc == 2 and out == "" and err.count("\n") == 1 and err.startswith(f"error: {says}")
    assert not list(tmp_path.iterdir())


def test_train_refuses_an_unwritable_out_before_training(capsys, tmp_path, monkeypatch):
    import errno

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr("imgai.models.checkpoint.tempfile.mkstemp", read_only)  # as root, chmod would not stop us
    monkeypatch.setattr("imgai.training.runs.load_dataset", lambda *a: pytest.fail("training started"))
    rc, out, err = run_main(capsys, "train", "--model", "cnn", "--epochs", "0.05", "--out", tmp_path / "ro" / "m")
    assert rc == 2 and out == ""
    assert err == f"error: cannot save to {tmp_path / 'ro' / 'm'}: the folder {tmp_path / 'ro'} is read-only\n"


@pytest.mark.parametrize("fallback", [True, False], ids=["named", "temporary"])
def test_a_full_disk_at_the_end_keeps_the_run_elsewhere(capsys, tmp_path, monkeypatch, fallback):
    import errno
    import imgai.models.checkpoint as ck
    full = tmp_path / "full"
    real = ck.atomic_write

    def write(target, data):
        if full in target.parents:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(target, data)
    monkeypatch.setattr(ck, "atomic_write", write)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    extra = ["--fallback-out", tmp_path / "elsewhere" / "m"] if fallback else []
    rc, out, err = run_main(capsys, "train", "--model", "cnn", "--epochs", "0.05", "--out", full / "m", *extra)
    summary = json.loads(out.strip().splitlines()[-1])
    saved = Path(summary["checkpoint"])
    assert rc == 1 and saved.parent == (tmp_path / "elsewhere" if fallback else tmp_path / "tmp" / "imgai-rescue")
    line = err.strip().splitlines()[-1]
    assert line == f"error: could not save the checkpoint {full / 'm'}: no space left on device; saved it to {saved} instead"
    from imgai.models.checkpoint import load_checkpoint
    assert load_checkpoint(saved)[1]["step"] == summary["steps"] >= 1
    assert not list(full.iterdir())


def test_a_saved_run_records_the_accuracy_of_its_saved_weights(trained, digits):
    from imgai.models.checkpoint import load_checkpoint
    from imgai.training.runs import score_classifier
    out, cnn, _ = trained
    model, meta = load_checkpoint(out / "cnn")
    truth = score_classifier(model, digits.val_x, digits.val_y, digits.mean, digits.std)
    assert meta["metrics"]["val_acc"] == pytest.approx(truth["val_acc"]) == pytest.approx(cnn["val_acc"], abs=1e-4)
    assert meta["metrics"]["val_images"] == len(digits.val_y)


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.__name__[5:])
def test_bad_checkpoints_are_refused_by_the_cli_in_one_line(capsys, tmp_path, case, digits):
    base = make(case, tmp_path)
    picture = tmp_path / "digit.png"
    Image.fromarray(digits.val_x[0, 0].numpy()).save(picture)
    for command in (["classify", "--weights", base, picture], ["generate", "--weights", base, "--out", tmp_path / "g.png"],
                    ["export", "--weights", base, "--out", tmp_path / "exported"]):
        rc, out, err = run_main(capsys, *command)
        assert rc == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: ") and CORPUS[case] in err
    assert not (tmp_path / "exported").exists()          # a refused export writes nothing


def test_classify_reports_each_file_and_survives_bad_ones(trained, tmp_path, digits):
    out, _, _ = trained
    good = []
    for i in range(3):
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(digits.val_x[i, 0].numpy()).save(path)
        good.append(path)
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    p = imgai("classify", "--weights", str(out / "cnn") + ".json", "--top", "3", good[0], bad, *good[1:], check=False)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert p.returncode == 1 and len(lines) == 4
    assert lines[1]["file"] == str(bad) and "not an image" in lines[1]["error"]
    for r in (lines[0], *lines[2:]):
        assert set(r) == {"file", "label", "prob", "top"} and len(r["top"]) == 3
        assert r["label"] == r["top"][0][0] and r["prob"] == r["top"][0][1]


@pytest.mark.skipif(not SHIPPED_CNN.with_suffix(".json").exists(), reason="shipped weights not built")
def test_shipped_cnn_reads_mnist_digits(tmp_path, digits):
    files = []
    for i in range(20):
        Image.fromarray(digits.val_x[i, 0].numpy()).save(tmp_path / f"{i}.png")
        files.append(tmp_path / f"{i}.png")
    p = imgai("classify", "--weights", SHIPPED_CNN, *files)
    labels = [json.loads(l)["label"] for l in p.stdout.splitlines()]
    assert sum(l == str(int(y)) for l, y in zip(labels, digits.val_y[:20])) >= 19


def test_generate_writes_grid_png_and_npy(trained):
    out, _, _ = trained
    imgai("generate", "--weights", out / "gan", "--n", "16", "--seed", "5", "--out", out / "grid.png")
    assert Image.open(out / "grid.png").size[0] > 4 * 28
    imgai("generate", "--weights", out / "gan", "--n", "6", "--seed", "5", "--out", out / "s.npy")
    s = np.load(out / "s.npy")
    assert s.shape == (6, 28, 28) and s.dtype == np.uint8
    imgai("generate", "--weights", out / "gan", "--n", "1", "--seed", "5", "--out", out / "one.npy")
    assert np.array_equal(np.load(out / "one.npy")[0], s[0])  # seed 5's latent is the first one drawn


def test_interpolate_end_frames_equal_the_seeds(trained):
    out, _, _ = trained
    imgai("interpolate", "--weights", out / "gan", "--seeds", "3", "9", "--steps", "6", "--out", out / "walk.npy")
    walk = np.load(out / "walk.npy")
    assert walk.shape == (6, 28, 28)
    for seed, frame in ((3, walk[0]), (9, walk[-1])):
        imgai("generate", "--weights", out / "gan", "--n", "1", "--seed", seed, "--out", out / f"s{seed}.npy")
        assert np.array_equal(np.load(out / f"s{seed}.npy")[0], frame)
    imgai("interpolate", "--weights", out / "gan", "--seeds", "3", "9", "--steps", "5", "--method", "lerp",
          "--out", out / "walk.gif")
    assert sum(1 for _ in ImageSequence.Iterator(Image.open(out / "walk.gif"))) == 5


def test_generate_refuses_a_classifier_checkpoint(trained):
    out, _, _ = trained
    p = imgai("generate", "--weights", out / "cnn", "--n", "4", "--out", out / "x.png", check=False)
    assert p.returncode == 2 and "not a generator" in p.stderr


def test_generate_refuses_an_absurd_number_of_pictures_in_one_line(capsys, tmp_path):
    rc, out, err = run_main(capsys, "generate", "--weights", SHIPPED_GAN, "--n", "100000000", "--out", tmp_path / "g.png")
    assert rc == 2 and out == "" and err.count("\n") == 1 and "at most 4096" in err
    assert not list(tmp_path.iterdir())
