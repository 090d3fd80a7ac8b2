"""Checkpoints: save → load round trips, safe pairs, one-line refusals of every broken or crafted checkpoint
(the corpus of crafted ones is tests/checkpoint_corpus.py), and writes that fail cleanly (full disk,
read-only folder) without losing the previous checkpoint."""
import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError

from checkpoint_corpus import CORPUS, _json, make, meta, tiny_cnn
from imgai.models.checkpoint import (HASH_KEY, CheckpointError, list_checkpoints, load_checkpoint, models_dir, read_meta,
                              save_checkpoint)
from imgai.models import CNN, CNN_PRESETS, DCGAN, GAN_PRESETS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind,model", [("cnn", lambda: CNN(CNN_PRESETS["fast"]())),
                                        ("dcgan", lambda: DCGAN(GAN_PRESETS["fast"]()))])
def test_save_then_load_gives_identical_outputs(tmp_path, kind, model):
    torch.manual_seed(0)
    m = model().eval()
    path = save_checkpoint(tmp_path / "m", m, meta(kind))
    assert (tmp_path / "m.safetensors").exists() and (tmp_path / "m.json").exists()
    loaded, info = load_checkpoint(str(path) + ".safetensors")  # with or without the extension
    assert info["kind"] == kind and info["config"] and info["version"]
    assert info[HASH_KEY] == hashlib.sha256((tmp_path / "m.safetensors").read_bytes()).hexdigest()
    if kind == "cnn":
        x = torch.randn(4, 1, 28, 28)
        assert torch.equal(m(x), loaded(x))
    else:
        z = torch.randn(4, 100)
        assert torch.equal(m.generator(z), loaded.generator(z))
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_a_dotted_name_keeps_its_dots(tmp_path):
    base = save_checkpoint(tmp_path / "run.v2", tiny_cnn(), meta())
    assert base == tmp_path / "run.v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.v2.json", "run.v2.safetensors"]
    assert load_checkpoint(tmp_path / "run.v2")[1]["step"] == 3
    assert load_checkpoint(tmp_path / "run.v2.json")[1]["step"] == 3


def test_the_models_own_config_wins_over_the_callers(tmp_path):
    model = tiny_cnn()
    save_checkpoint(tmp_path / "m", model, {**meta(), "config": {"hidden": 999, "num_classes": 3}})
    assert read_meta(tmp_path / "m")["config"]["hidden"] == 8
    assert load_checkpoint(tmp_path / "m")[0].config.hidden == 8


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.__name__[5:])
def test_each_bad_checkpoint_is_refused_with_one_line(tmp_path, case, monkeypatch):
    base = make(case, tmp_path)
    built = []
    monkeypatch.setattr("imgai.models.cnn.CNN.__init__", _spy(CNN.__init__, built))
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(base)
    line = str(e.value)
    assert CORPUS[case] in line and "\n" not in line and len(line) < 300
    assert all(device == "meta" for device in built)  # nothing real was built before the refusal
    assert "m" not in {c["name"] for c in list_checkpoints([tmp_path])}


def _spy(init, log):
    def spy(self, config):
        log.append(str(torch.get_default_device()))
        return init(self, config)
    return spy


def test_a_checkpoint_from_before_hashes_still_loads(tmp_path):
    model = tiny_cnn().eval()
    save_checkpoint(tmp_path / "old", model, meta())
    info = _json(tmp_path / "old")
    del info[HASH_KEY]
    (tmp_path / "old.json").write_text(json.dumps(info))
    loaded, _ = load_checkpoint(tmp_path / "old")
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(model(x), loaded(x))
    assert "old" in {c["name"] for c in list_checkpoints([tmp_path])}


# ---- writing: pair order, stale temporaries, full disk, read-only folder ----

def test_a_save_killed_before_the_json_leaves_a_pair_that_is_refused(tmp_path, monkeypatch):
    base = tmp_path / "m"
    save_checkpoint(base, tiny_cnn(), meta())
    import imgai.models.checkpoint as ck
    real = ck.atomic_write

    def killed_at_json(target, data):
        if target.name.endswith(".json"):
            raise KeyboardInterrupt  # the process dies between the two moves
        real(target, data)
    monkeypatch.setattr(ck, "atomic_write", killed_at_json)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(base, tiny_cnn(hidden=16), meta())
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="not the one its description was saved with"):
        load_checkpoint(base)
    assert list_checkpoints([tmp_path]) == []
    save_checkpoint(base, tiny_cnn(hidden=16), meta())  # saving again repairs it
    assert load_checkpoint(base)[0].config.hidden == 16


def test_stale_temporary_files_are_removed_and_fresh_ones_kept(tmp_path):
    save_checkpoint(tmp_path / "m", tiny_cnn(), meta())
    old = [tmp_path / ".m.safetensors.k1ll3d.tmp", tmp_path / ".m.json.x.tmp"]
    fresh = tmp_path / ".n.safetensors.saving.tmp"
    keep = tmp_path / ".notes.tmp"  # not a checkpoint temporary: never ours to delete
    for p in (*old, fresh, keep):
        p.write_bytes(b"partial")
    for p in (*old, keep):
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    assert [c["name"] for c in list_checkpoints([tmp_path])] == ["m"]
    assert not any(p.exists() for p in old) and fresh.exists() and keep.exists()


FULL_DISK = [
    ("os", OSError(errno.ENOSPC, "No space left on device")),
    ("safetensors", SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, '
                                    'message: "No space left on device" })')),
]


@pytest.mark.parametrize("where,error", FULL_DISK, ids=[w for w, _ in FULL_DISK])
def test_full_disk_says_so_in_one_line_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch, where, error):
    base = tmp_path / "m"
    save_checkpoint(base, tiny_cnn(), meta())
    before = (tmp_path / "m.safetensors").read_bytes(), (tmp_path / "m.json").read_bytes()

    def fail(*a, **k):
        raise error
    # the OS fails while the bytes are flushed to disk; safetensors reports with its own error type
    monkeypatch.setattr("imgai.models.checkpoint.os.fsync" if where == "os" else "imgai.models.checkpoint.safetensors_bytes", fail)
    with pytest.raises(CheckpointError) as e:
        save_checkpoint(base, tiny_cnn(hidden=16), meta())
    assert str(e.value) == f"could not save the checkpoint {base}: no space left on device"
    assert ((tmp_path / "m.safetensors").read_bytes(), (tmp_path / "m.json").read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_read_only_folder_says_so_in_one_line(tmp_path, monkeypatch, code):
    """As root (CI containers) chmod does not stop writes, so the refusal is simulated where the OS gives it:
    creating the temporary file. test_read_only_folder_for_real covers chmod where it applies."""
    def refuse(*a, **k):
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr("imgai.models.checkpoint.tempfile.mkstemp", refuse)
    with pytest.raises(CheckpointError, match=f"the folder {tmp_path} is read-only"):
        save_checkpoint(tmp_path / "m", tiny_cnn(), meta())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
def test_read_only_folder_for_real(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(CheckpointError, match="read-only"):
            save_checkpoint(folder / "m", tiny_cnn(), meta())
    finally:
        folder.chmod(0o755)


SAVE_INTO = """
import os
import sys
from imgai.models.checkpoint import CheckpointError, save_checkpoint
from imgai.models import CNN, CNN_PRESETS
try:
    save_checkpoint(sys.argv[1], CNN(CNN_PRESETS["textbook"](stages=[[4], [8]], hidden=8)), {"kind": "cnn"})
except CheckpointError as e:
    print(e)
    print(sorted(os.listdir(os.path.dirname(sys.argv[1]))))  # nothing left behind, temporaries included
    sys.exit(3)
"""


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare(1) for a private read-only mount")
def test_read_only_mount_for_real(tmp_path):
    """A real read-only file system, even as root: a bind mount remounted read-only in a private mount
    namespace (skipped where the container does not allow mounts)."""
    folder, script = tmp_path / "ro", tmp_path / "save.py"
    folder.mkdir()
    script.write_text(SAVE_INTO)
    shell = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 77; exec "$2" "$3" "$1/m"'
    p = subprocess.run(["unshare", "-m", "sh", "-c", shell, "sh", str(folder), sys.executable, str(script)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if p.returncode == 77 or "unshare:" in p.stderr:
        pytest.skip(f"no private mounts here: {p.stderr.strip()[:100]}")
    assert p.returncode == 3, p.stderr[-1000:]
    assert p.stdout == f"could not save the checkpoint {folder / 'm'}: the folder {folder} is read-only\n[]\n"


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs unshare(1) for a private tmpfs")
def test_full_disk_for_real(tmp_path):
    """A real full disk: a 16 KB tmpfs in a private mount namespace, too small for the tiny model's 40 KB."""
    folder, script = tmp_path / "tiny", tmp_path / "save.py"
    folder.mkdir()
    script.write_text(SAVE_INTO)
    shell = 'mount -t tmpfs -o size=16k tmpfs "$1" || exit 77; exec "$2" "$3" "$1/m"'
    p = subprocess.run(["unshare", "-m", "sh", "-c", shell, "sh", str(folder), sys.executable, str(script)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if p.returncode == 77 or "unshare:" in p.stderr:
        pytest.skip(f"no private mounts here: {p.stderr.strip()[:100]}")
    assert p.returncode == 3, p.stderr[-1000:]
    assert p.stdout == f"could not save the checkpoint {folder / 'm'}: no space left on device\n[]\n"


def test_list_checkpoints_finds_shipped_and_user_models(tmp_path):
    save_checkpoint(models_dir() / "mine", CNN(CNN_PRESETS["fast"]()), meta())
    (models_dir() / "stray.json").write_text("{}")  # not a checkpoint: ignored
    found = {m["name"]: m for m in list_checkpoints()}
    assert "mine" in found and not found["mine"]["shipped"]
    assert found["mine"]["metrics"]["val_acc"] == 0.5
    assert "stray" not in found
    shipped = [m for m in found.values() if m["shipped"]]
    assert {m["name"] for m in shipped} >= {"digits-cnn", "digits-dcgan"}


def test_a_photo_head_round_trips(tmp_path):
    from imgai.models.imagenet import PhotoHead, PhotoHeadConfig
    head = PhotoHead(PhotoHeadConfig(num_classes=3)).eval()
    with torch.no_grad():
        head.mean.normal_()
    info = {"kind": "photo-head", "dataset": "mine", "class_names": ["cat", "dog", "cup"], "intake": "photo"}
    loaded, _ = load_checkpoint(save_checkpoint(tmp_path / "teach", head, info))
    f = torch.randn(2, head.config.num_features)
    assert torch.equal(head(f), loaded(f))
    with pytest.raises(CheckpointError, match="names 2 classes but its config has 3 outputs"):
        save_checkpoint(tmp_path / "bad", head, {**info, "class_names": ["cat", "dog"]})
        load_checkpoint(tmp_path / "bad")


def test_a_killed_saves_temporaries_go_at_once_and_a_live_saves_stay(tmp_path):
    """kill -9 during a save leaves .NAME.safetensors.*.tmp; its writer is gone, so the next listing removes it
    (issue 23: such files were never cleaned). A temporary of a save still being written is never touched."""
    import signal
    import subprocess
    import sys
    from imgai.models.checkpoint import list_checkpoints, remove_stale_temporaries
    owner = tmp_path / "models" / "abc123"
    owner.mkdir(parents=True)
    # a writer that opens its temporary the way a save does, then hangs (a slow disk) until killed
    code = ("import sys, tempfile, time; from pathlib import Path; from imgai.models import safe_write as c; "
            "t = Path(sys.argv[1]) / 'mine.safetensors'; "
            "fd, p = tempfile.mkstemp(dir=t.parent, prefix=c._tmp_prefix(t), suffix='.tmp'); "
            "print(p, flush=True); time.sleep(600)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed = subprocess.Popen([sys.executable, "-c", code, str(owner)], stdout=subprocess.PIPE, text=True, env=env)
    live = subprocess.Popen([sys.executable, "-c", code, str(owner)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        dead_tmp, live_tmp = Path(killed.stdout.readline().strip()), Path(live.stdout.readline().strip())
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        assert dead_tmp.exists() and live_tmp.exists()
        list_checkpoints([owner])                               # a picker listing the folder cleans it
        assert not dead_tmp.exists() and live_tmp.exists()      # the live save's file is untouched
        old = owner / ".old.json.x1y2.tmp"                      # an older name (no writer): the age rule
        old.write_bytes(b"{")
        assert remove_stale_temporaries(tmp_path / "models", recursive=True) == 0 and old.exists()
        os.utime(old, (time.time() - 3600, time.time() - 3600))
        assert remove_stale_temporaries(tmp_path / "models", recursive=True) == 1 and not old.exists()
        assert live_tmp.exists()
    finally:
        for p in (killed, live):
            p.kill()
            p.wait(10)
