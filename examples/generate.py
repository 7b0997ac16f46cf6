"""Sample pictures from a trained generator.

    python examples/generate.py --checkpoint out --n 64                  # 8 x 8 samples: out/generated.png
    python examples/generate.py --checkpoint out --out out/walk.png --interpolate     # latent walks
    python examples/generate.py --checkpoint out/checkpoints/step_000400.npz --seed 7

``--checkpoint`` takes a run's output folder (its latest checkpoint), a
``latest`` pointer, or a checkpoint file. G is rebuilt from the config saved
in the checkpoint; the EMA copy is used when the run kept one (--ema).
See minigan/job/generate.py; from Python:

    from minigan.job.generate import load_generator
    from minigan.models import sample_noise
    G = load_generator("out")
    images = G(sample_noise(16, G.nz, G.noise, rng=0))     # (16, C, H, W) in [-1, 1]
"""
import sys

from minigan.job.cli import run_command

if __name__ == "__main__":
    sys.exit(run_command("generate", sys.argv[1:], prog=f"python {sys.argv[0]}"))
