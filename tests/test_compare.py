"""ui/experiments/compare.py: the compare list says what its number is, and the settings table shows what a
run actually did beside what was asked for."""
from ui.experiments.compare import flat_settings, run_name, settings_table


def run(**over):
    base = {"id": "abcd1234", "owner": "ann", "kind": "dcgan", "dataset": "digits", "status": "stopped",
            "finished": 0, "settings": {"preset": "fast", "train": {"epochs": 30, "seconds": 60.0, "lr": 2e-4},
                                        "model": {}},
            "final": {"epoch": 1.4, "step": 420, "seconds": 60.2, "quality": 0.422},
            "history": [{"step": 10, "lr": 2e-4}, {"step": 200, "lr": 2e-4}, {"step": 300, "lr": 3e-3},
                        {"step": 420, "lr": 3e-3}]}
    base.update(over)
    return base


def test_the_list_names_what_its_number_is():
    assert "sample quality 42.2%" in run_name(run(), "ann")
    cnn = run(kind="cnn", final={"val_acc": 0.95, "epoch": 2.0, "step": 100})
    assert "validation accuracy 95.0%" in run_name(cnn, "ann")


def test_a_time_budget_run_shows_the_epochs_it_reached_and_the_rates_it_used():
    f = flat_settings(run())
    assert f["train.epochs"] == "— (a time budget)" and f["did.epochs"] == 1.4 and f["did.steps"] == 420
    assert f["did.lr"] == "0.0002 at the start, 0.003 at the end"       # changed by hand mid-run
    assert f["result.sample quality"] == 0.422


def test_rows_of_what_a_run_did_are_never_highlighted_as_chosen_differences():
    a, b = run(), run(id="ffff0000", final={"epoch": 2.0, "step": 600, "seconds": 60.0, "quality": 0.5})
    styled, n_diff = settings_table([a, b], ["a", "b"])
    assert n_diff == 0 and "did.epochs" in styled.data.index
