"""ui/charts.py: the loss charts' smoothing and log axis (TensorBoard's two controls)."""
from ui import charts


ROWS = [{"step": i, "loss": 230.0 if i == 30 else 2.0 / (i + 1), "loss_d": 1.0 + i % 2, "loss_g": 0.5 + i % 3}
        for i in range(40)]


def test_smoothing_zero_draws_every_batch_and_more_smoothing_draws_a_flatter_curve():
    raw = [r["loss"] for r in ROWS]
    none = charts.loss_figure(ROWS, smoothing=0.0).data[1].y
    assert list(none) == raw
    lots = charts.loss_figure(ROWS, smoothing=0.95).data[1].y
    assert max(lots) < max(raw) / 5 and lots[0] == raw[0]          # bias-corrected: starts at the first value


def test_log_scale_makes_the_loss_axis_logarithmic_for_both_kinds():
    assert charts.loss_figure(ROWS, log=True).layout.yaxis.type == "log"
    assert charts.loss_figure(ROWS).layout.yaxis.type in (None, "-", "linear")
    gan = charts.gan_loss_figure(ROWS, smoothing=0.5, log=True)
    assert gan.layout.yaxis.type == "log" and "log scale" in gan.layout.yaxis.title.text
