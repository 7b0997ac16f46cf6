"""Train a DCGAN on MNIST digits, written by hand from NumPy up.

    python examples/train_mnist.py --dataset fashion-mnist --max-steps 1500   # ~5 min on 2 cores, into out/
    python examples/train_mnist.py                               # CPU, MNIST (downloaded once), 5 epochs
    python examples/train_mnist.py --backend cupy                # an NVIDIA GPU
    python examples/train_mnist.py --dataset fashion-mnist --out runs/fashion
    python examples/train_mnist.py --out runs/fashion --resume   # continue after Ctrl-C (or kill)
    python examples/train_mnist.py --help                        # every flag, with its default

The job is minigan.job.run.train; open minigan/job/run.py and read it top to bottom:

    config   TrainConfig (minigan/job/config.py): one field per flag, printed at start-up, saved as OUT/config.json
    folder   OUT, locked for this job; minigan/job/run_folder.py lists its files and the rules that keep them
    data     60,000 pictures, uint8 (N, 28, 28) -> batches of float32 (B, 1, 28, 28) in [-1, 1]
    model    G: z (B, 100, 1, 1) -> (B, 1, 28, 28);  D: (B, 1, 28, 28) -> P(real) (B, 1, 1, 1)
    trainer  each step, one update of D (real -> 1, fake -> 0), then one of G (fake -> 1):
             minigan/train.py writes out every gradient between the two networks
    loop     lines like the DCGAN paper's example: Loss_D, Loss_G, D(x), D(G(z))
    outputs  OUT/samples.png, training.gif, curves.png, interpolation.png, metrics.csv, index.html,
             checkpoints/ and OUT/latest (minigan/job/side_tasks.py: log, evaluate, sample, checkpoint)

On a CPU a step takes a fraction of a second; clothes and digits take shape
within a few hundred steps. The same job, from Python:

    from minigan.job.run import TrainConfig, train
    train(TrainConfig(dataset="fashion-mnist", max_steps=500, out="runs/fashion"))

and from the shell, once minigan is installed: ``minigan train ...``.
"""
import sys

from minigan.job.start import run_command    # sets OPENBLAS_THREAD_TIMEOUT first (minigan/fast/blas.py)

if __name__ == "__main__":
    sys.exit(run_command("train", sys.argv[1:], prog=f"python {sys.argv[0]}"))
