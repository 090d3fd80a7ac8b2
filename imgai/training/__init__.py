"""Training: the settings and limits every run goes through, the two loops, and their parts.

    from imgai.training.runs import RunSpec, prepare_run   # run = prepare_run(RunSpec("cnn", "fast", "digits"))
    for metrics in run.loop(): ...                          # a plain generator of flat dicts of floats

runs.py: presets, LIMITS (the sane range of every setting), RunSpec -> Run. config.py: TrainConfig, the
optimiser and schedules. classifier.py and gan.py: the loops; loop.py what they share (clock, batches, the
divergence check). augment.py: training-time augmentation (warps, crops, alternating flips, DiffAugment).
gan_losses.py: the GAN game's losses. averaging.py: the generator's EMA and the classifier's lookahead.
history.py: the one rule that thins a metric history.
"""
