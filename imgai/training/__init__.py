"""Training: the loops, the presets and limits every run goes through, and the GAN training options.

    from imgai.training.runs import RunSpec, prepare_run   # run = prepare_run(RunSpec("cnn", "fast", "digits"))
    for metrics in run.loop(): ...                          # imgai.training.train: plain generators of dicts

runs.py holds the presets and LIMITS (the sane range of every setting), train.py the classifier and GAN
loops, gan_tricks.py the GAN losses, DiffAugment and the generator's EMA, history.py the one rule that thins
a metric history.
"""
