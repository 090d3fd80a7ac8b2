"""The GAN playground's library: the score on known samples, the data sets, the CSV intake's refusals, exact
one-step moves, determinism by seed, and the CLI's three outputs. Tiny nets and few steps: cheap."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from imgai.playground import MODES, Playground, PlaygroundConfig, PointsError, make_data, read_points_csv, score
from imgai.playground.data import MAX_CSV_BYTES, MAX_ROWS
from imgai.playground.view import game_view, plane_extent

TINY = PlaygroundConfig(g_width=8, g_depth=1, d_width=8, d_depth=1, batch=16)


@pytest.mark.parametrize("name", list(MODES))
def test_real_samples_cover_every_mode_and_a_collapsed_set_scores_low(name):
    s = score(make_data(name, 2500, seed=3), name)
    assert s["modes_covered"] == s["modes"] and s["high_quality"] > 0.95
    centres, std = MODES[name]
    collapsed = centres[0] + std * np.random.default_rng(0).standard_normal((2500, 2))
    c = score(collapsed, name)
    assert c["modes_covered"] == 1 and c["high_quality"] > 0.95
    spread = np.random.default_rng(1).uniform(-5, 5, (2500, 2))
    assert score(spread, name)["high_quality"] < 0.1


@pytest.mark.parametrize("name", ["ring8", "grid25", "moons", "spiral"])
def test_data_sets_have_the_right_shape_and_repeat_by_seed(name):
    a, b = make_data(name, 300, seed=1), make_data(name, 300, seed=1)
    assert a.shape == (300, 2) and a.dtype == np.float32 and np.array_equal(a, b)
    assert not np.array_equal(a, make_data(name, 300, seed=2))


def test_a_good_csv_is_read_with_or_without_a_header():
    assert read_points_csv(b"x,y\n0,1\n2.5,-3\n").tolist() == [[0, 1], [2.5, -3]]
    assert read_points_csv(b"0;1\n1;0\n").shape == (2, 2)


@pytest.mark.parametrize("data, words", [
    (b"1,2\n" * (MAX_CSV_BYTES // 4 + 1), "MB"),
    (b"1,2\n" * (MAX_ROWS + 1), "rows"),
    (b"1,2\nnan,3\n", "finite"),
    (b"1,2\ninf,3\n", "finite"),
    (b"1,2\nabc,3\n", "not a number"),
    (b"1,2\n", "at least"),
    (b"1,1\n1,1\n1,1\n", "same point"),
    (b"1,2,3\n4,5,6\n", "columns"),
    (b"1,2\n=SUM(A1:A2),3\n", "formula"),
    (b"\xff\xfe\x00bin", "text"),
    (b"", "no points"),
])
def test_a_bad_csv_is_refused_with_one_line(data, words):
    with pytest.raises(PointsError) as e:
        read_points_csv(data)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_step_moves_exactly_one_network_by_exactly_one_step():
    pg = Playground(make_data("ring8", 500), TINY, seed=0)
    g0 = [p.clone() for p in pg.G.parameters()]
    d0 = [p.clone() for p in pg.D.parameters()]
    m = pg.step("d")
    assert (m["d_step"], m["g_step"]) == (1, 0)
    assert all(np.array_equal(a.detach(), b.detach()) for a, b in zip(g0, pg.G.parameters()))
    assert any(not np.array_equal(a.detach(), b.detach()) for a, b in zip(d0, pg.D.parameters()))
    d1 = [p.clone() for p in pg.D.parameters()]
    m = pg.step("g")
    assert (m["d_step"], m["g_step"]) == (1, 1)
    assert all(np.array_equal(a.detach(), b.detach()) for a, b in zip(d1, pg.D.parameters()))
    assert abs(m["v"] - (m["v_real"] + m["v_fake"])) < 1e-6


def test_settings_change_between_steps_and_sizes_rebuild_only_their_net():
    pg = Playground(make_data("moons", 500), TINY, seed=0)
    pg.step("d")
    assert pg.update(lr_d=0.01) == [] and pg.opt_d.param_groups[0]["lr"] == 0.01
    assert pg.update(g_width=16) == ["G"]
    assert pg.update(loss="hinge", d_steps=2) == [] and pg.round()["d_step"] == 3
    with pytest.raises(ValueError):
        pg.update(batch=10 ** 9)


def test_the_same_seed_gives_the_same_run_and_views_have_their_shapes():
    runs = []
    for _ in range(2):
        pg = Playground(make_data("ring8", 500), TINY, seed=5)
        last = list(pg.run(rounds=5))[-1]
        runs.append((pg.samples(100), last["loss_d"]))
    assert np.array_equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]
    v = game_view(pg, plane_extent(make_data("ring8", 500)))
    assert v["heat"].shape == (64, 64) and v["fake"].shape == v["push"].shape
    assert ((v["heat"] >= 0) & (v["heat"] <= 1)).all()


def _cli(tmp_path, out, *extra):
    r = subprocess.run([sys.executable, "-m", "imgai", "playground", "--data", "ring8", "--seconds", "0.3",
                        "--g-width", "8", "--d-width", "8", "--out", str(tmp_path / out), *extra],
                       capture_output=True, text=True, env={"IMGAI_THREADS": "1", **__import__("os").environ})
    return r


@pytest.mark.parametrize("out", ["x.npy", "x.png", "x.gif"])
def test_cli_writes_samples_picture_or_animation(tmp_path, out):
    r = _cli(tmp_path, out)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["modes"] == 8
    if out.endswith(".npy"):
        x = np.load(tmp_path / out)
        assert x.shape == (2500, 2) and x.dtype == np.float32
    else:
        from PIL import Image
        assert Image.open(tmp_path / out).size == (480, 480)


def test_cli_refuses_a_bad_csv_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n=SUM(A1),3\n")
    r = subprocess.run([sys.executable, "-m", "imgai", "playground", "--data", str(bad), "--seconds", "0.1",
                        "--out", str(tmp_path / "x.npy")], capture_output=True, text=True)
    assert r.returncode == 2 and "formula" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_drawn_points_are_read_from_both_canvas_formats():
    """The drawing canvas's circles, as fabric.js 5 ("circle", origin top-left) and 6 ("Circle", centred) write them."""
    from imgai.playground.data import drawn_points
    old = [{"type": "circle", "left": 96, "top": 156, "radius": 4}]                 # centre (100, 160)
    new = [{"type": "Circle", "left": 100, "top": 160, "radius": 4, "originX": "center", "originY": "center"}]
    for objects in (old, new):
        p = drawn_points(objects, 200, 200, extent=4.0)
        assert p.shape == (1, 2) and abs(p[0, 0]) < 1e-6 and abs(p[0, 1] + 2.4) < 1e-5   # y up: 160 px of 200 is below the middle

def test_the_default_keeps_r1_and_ema_and_the_textbook_preset_neither():
    from imgai.playground import PRESETS
    assert PRESETS["playground"] == PlaygroundConfig()
    assert PRESETS["playground"].r1 > 0 and PRESETS["playground"].ema > 0
    t = PRESETS["textbook"]
    assert t.loss == "minimax" and t.r1 == 0 and t.ema == 0
    # the default's tricks run on the tiny nets: R1 in D's step, the averaged G is what is sampled
    pg = Playground(make_data("ring8", 500, seed=0), PlaygroundConfig(**{**TINY.__dict__, "r1": 1.0, "ema": 0.9}),
                    seed=0)
    for _ in pg.run(rounds=3):
        pass
    assert pg.sampler() is pg.G_ema and np.isfinite(pg.samples(50)).all()
    assert any(not torch.equal(a, b) for a, b in zip(pg.G_ema.parameters(), pg.G.parameters()))


def test_each_generator_draws_its_own_share_and_one_generator_is_a_plain_mlp():
    from imgai.playground.model import MixtureGenerator, mlp
    torch.manual_seed(0)
    G, z = MixtureGenerator(4, 2, 8, 2), torch.randn(10, 2)
    before = G(z)
    with torch.no_grad():
        G.biases[-1][2] += 1.0                        # move generator 2's output only
    moved = (G(z) - before).abs().sum(1) > 0
    assert moved.tolist() == [i % 4 == 2 for i in range(10)]    # rows 2 and 6: generator i % 4
    one, plain = MixtureGenerator(1, 3, 8, 2), mlp(3, 8, 2, 2)
    with torch.no_grad():
        for layer, w, b in zip([m for m in plain if isinstance(m, torch.nn.Linear)], one.weights, one.biases):
            layer.weight.copy_(w[0].T)
            layer.bias.copy_(b[0, 0])
    z = torch.randn(7, 3)
    assert torch.allclose(one(z), plain(z), atol=1e-6)


def test_the_manifold_shows_every_generator_where_it_draws():
    from imgai.playground.view import grid_lines, manifold
    pg = Playground(make_data("ring8", 500), PlaygroundConfig(**{**TINY.__dict__, "generators": 4}), seed=0)
    grids, density = manifold(pg)
    k = grid_lines(4)
    assert grids.shape == (4, k, k, 2) and density.shape == (4, k - 1, k - 1) and (density > 0).all()
    # generator j's grid point is what the mixture draws for that noise at a row j goes to
    z = torch.zeros(4, 2)
    z[:, 0] = z[:, 1] = torch.linspace(-2.5, 2.5, k)[0]
    assert np.allclose(pg.to_plane(pg.sampler()(z)),
                       grids[:, 0, 0], atol=1e-5)


def test_a_generator_too_big_for_a_server_is_refused_with_one_line():
    with pytest.raises(ValueError, match="weights") as e:
        PlaygroundConfig(generators=64, g_width=512, g_depth=6).check()
    assert "\n" not in str(e.value)
    from imgai.playground import PRESETS
    assert PRESETS["textbook"].generators == 1 and PRESETS["playground"].generators > 8   # more than ring8's modes
