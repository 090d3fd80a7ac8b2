"""Shared fixtures: keep every test off the user's folders, off the network, and quick on 2 cores."""
import os

import pytest
import torch

# One thread each: the suite runs beside other processes on a 2-core machine, and tiny models don't scale.
torch.set_num_threads(1)
os.environ.setdefault("IMGAI_THREADS", "1")


@pytest.fixture(autouse=True)
def private_folders(tmp_path_factory, monkeypatch):
    """User checkpoints and downloaded data sets go to temporary folders, never ~/.cache."""
    monkeypatch.setenv("IMGAI_MODELS", str(tmp_path_factory.mktemp("models")))
    monkeypatch.setenv("IMGAI_DATA", str(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
def digits():
    from imgai.data.datasets import load_dataset
    return load_dataset("digits")
