"""The training job around the GAN: the command line, the run folder and what it holds.

The engine (``minigan/backend.py``, ``minigan/nn/``, ``minigan/optim.py``) and the GAN
(``minigan/train.py``, ``minigan/gan_losses.py``, ``minigan/penalties.py``,
``minigan/models/``) import nothing from here; this package uses them to run a job:

    cli.py, config.py     the ``minigan`` command and its flags (a dataclass + argparse)
    run.py                ``train()``: the training job, top to bottom
    run_folder.py         what a run folder holds, and the rules that keep it safe
    runlock.py            one job per folder
    output_guard.py       where a command may write: never over a run's file or one that is not its own
    interrupts.py         SIGTERM and SIGHUP like Ctrl-C; a closed stdout is no error
    checkpoint.py         save and resume, bit for bit; reading bounded by the file's own bytes
    weights_fit.py        a checkpoint's arrays against its config, before any network is built
    logs.py, progress.py  metrics.csv and the progress bar
    side_tasks.py         samples, checkpoints, evaluation and the report, one call each
    divergence.py         stopping a run whose losses blow up
    data/                 MNIST, Fashion-MNIST, folders of pictures
    judge.py, metrics/    how good the samples are: the classifier, Frechet distance
    generate.py, sample_files.py, export.py
                          pictures and weights files from a trained run
    report/, viz/         the HTML report and the pictures in it
    game_views.py         each game's curves and equilibrium, as the report and curves.png show them
"""
