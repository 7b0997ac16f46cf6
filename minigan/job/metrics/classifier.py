"""The judge: a small CNN classifier, built from minigan's own layers, whose eyes the metrics borrow.

FID (Heusel et al., 2017, https://arxiv.org/abs/1706.08500) and the Inception
Score (Salimans et al., 2016, https://arxiv.org/abs/1606.03498) look at images
through a network trained to *classify* them: its penultimate activations are
features that say what an image shows rather than which pixels are lit, and
its softmax says which class it shows and how surely. They use Inception-v3,
trained on ImageNet; for 28x28 grey pictures a classifier trained on the same
dataset as the GAN is the better judge, and it needs no downloaded weights.

Architecture (``image_size=28``, the defaults), no pooling -- strided
convolutions halve the picture, as in DCGAN's discriminator::

    x (N, 1, 28, 28) in [-1, 1]
      Conv2d(1, 32, 4, 2, 1)  -> BatchNorm2d -> ReLU      (N, 32, 14, 14)
      Conv2d(32, 64, 4, 2, 1) -> BatchNorm2d -> ReLU      (N, 64, 7, 7)
      Conv2d(64, 128, 3, 2, 1) -> BatchNorm2d -> ReLU     (N, 128, 4, 4)
      Flatten                                             (N, 2048)
      Linear(2048, 128) -> BatchNorm1d -> ReLU            (N, 128)   <- features(x)
      Linear(128, 10)                                     (N, 10)    logits; softmax -> predict_proba(x)

Training is plain supervised learning with the loss of
:func:`minigan.losses.softmax_cross_entropy`, whose gradient ``(p - onehot)/N``
enters the network's backward pass -- the same chain rule the GAN uses::

    logits = net.forward(x)
    loss, dlogits = softmax_cross_entropy(logits, y)
    net.backward(dlogits)          # adds dloss/dW into every layer's grads
    opt.step()
"""
from __future__ import annotations

import math
import time

import numpy as np

from ... import backend as B
from ..progress import resolve_stream
from ...losses import softmax_cross_entropy
from ...nn import BatchNorm1d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential
from ...nn.im2col import conv_output_size
from ...optim import Adam


def to_input(images, dtype=np.float32):
    """uint8 pictures ``(N, H, W)`` or ``(N, C, H, W)`` in [0, 255] -> float ``(N, C, H, W)`` in [-1, 1].

    The scaling ``x / 127.5 - 1`` is the one :func:`minigan.job.data.batches` uses, so
    real images land in the same range as a generator's tanh output. Float
    arrays are assumed to be in [-1, 1] already and are only cast. Works on
    NumPy and CuPy arrays alike.
    """
    x, t = images, np.dtype(dtype).type
    if x.dtype == np.uint8:
        x = x.astype(t) / t(127.5) - t(1)
    if x.ndim == 3:
        x = x[:, None]                                          # (N, H, W) -> (N, 1, H, W)
    return x.astype(dtype, copy=False)


class Classifier(Sequential):
    """``(N, C, H, W) -> (N, num_classes)`` logits; ``features`` and ``predict_proba`` for the metrics.

    A :class:`~minigan.nn.Sequential` (so ``to``, ``state_dict``, ``train``/``eval``
    and the optimizers work as for any network) whose last layer is the
    classification head. ``features(x)`` is the input to that head.

    in_channels, image_size: the pictures it reads (1, 28 for MNIST and Fashion-MNIST).
    widths: output channels of the three strided convolutions; hidden: the feature size.
    """

    def __init__(self, in_channels=1, image_size=28, num_classes=10, widths=(32, 64, 128), hidden=128,
                 *, dtype=None, seed=0):
        rng = np.random.default_rng(seed)
        c1, c2, c3 = widths
        s = image_size
        for kernel, stride, pad in ((4, 2, 1), (4, 2, 1), (3, 2, 1)):
            s = conv_output_size(s, kernel, stride, pad)        # 28 -> 14 -> 7 -> 4
        if s < 1:
            raise ValueError(f"Classifier: image_size {image_size} is too small for three strided convolutions")
        super().__init__(
            Conv2d(in_channels, c1, 4, 2, 1, bias=False, dtype=dtype, rng=rng), BatchNorm2d(c1, dtype=dtype), ReLU(),
            Conv2d(c1, c2, 4, 2, 1, bias=False, dtype=dtype, rng=rng), BatchNorm2d(c2, dtype=dtype), ReLU(),
            Conv2d(c2, c3, 3, 2, 1, bias=False, dtype=dtype, rng=rng), BatchNorm2d(c3, dtype=dtype), ReLU(),
            Flatten(),                                                           # (N, c3 * s * s)
            Linear(c3 * s * s, hidden, bias=False, dtype=dtype, rng=rng), BatchNorm1d(hidden, dtype=dtype), ReLU(),
            Linear(hidden, num_classes, dtype=dtype, rng=rng),                   # the head: (N, num_classes)
        )
        self.config = dict(in_channels=in_channels, image_size=image_size, num_classes=num_classes,
                           widths=list(widths), hidden=hidden)
        self.test_accuracy = None       # set by load_or_train_classifier: accuracy on the real test split
        self.meta = None                # ... and the record it was saved with (recipe, training time)

    @property
    def input_shape(self):
        """``(C, H, W)`` of the pictures this classifier reads."""
        c = self.config
        return (c["in_channels"], c["image_size"], c["image_size"])

    # -- what the metrics call ----------------------------------------------------
    def features(self, x, batch_size=500):
        """Penultimate activations ``(N, hidden)`` as a NumPy float64 array, in eval mode, batch by batch.

        ``x``: ``(N, C, H, W)`` floats in [-1, 1] (or uint8 pictures, scaled by
        :func:`to_input`) on any backend; moved to the classifier's backend and
        dtype a batch at a time.
        """
        ref = next(iter(self.params.values()))
        backend, dtype = B.backend_name(ref), ref.dtype
        out = [np.zeros((0, self.config["hidden"]))]
        # eval mode: BatchNorm uses its running statistics, so no batch effects. On leaving, the
        # caches from before are put back, so the eval passes' caches (tens of MB per batch) are freed.
        with self.evaluating():
            for start in range(0, len(x), batch_size):
                h = to_input(B.asarray(x[start:start + batch_size], backend), dtype)   # (B, C, H, W)
                for layer in self.layers[:-1]:          # every layer but the head
                    h = layer.forward(h)
                out.append(B.to_numpy(h).astype(np.float64))
        return np.concatenate(out)

    def head(self, features):
        """The last layer on ``features (N, hidden)``, in float64: logits ``(N, num_classes)``."""
        W, b = (B.to_numpy(self.layers[-1].params[k]).astype(np.float64) for k in ("weight", "bias"))
        return features @ W.T + b

    def logits(self, x, batch_size=500):
        """Class scores ``(N, num_classes)`` as a NumPy float64 array, in eval mode."""
        return self.head(self.features(x, batch_size))

    def predict_proba(self, x, batch_size=500):
        """``p(y | x)``: softmax of the logits, ``(N, num_classes)`` NumPy float64, rows summing to 1."""
        return softmax(self.logits(x, batch_size))

    def predict(self, x, batch_size=500):
        """The most probable class of each picture, ``(N,)`` int64."""
        return self.logits(x, batch_size).argmax(axis=1)


def softmax(z):
    """Row-wise softmax of ``(N, K)`` scores, stable (the row maximum is subtracted first)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def accuracy(classifier, images, labels, batch_size=500) -> float:
    """Fraction of ``images`` whose predicted class equals ``labels``."""
    return float(np.mean(classifier.predict(images, batch_size) == np.asarray(labels)))


def train_classifier(images, labels, *, epochs=2, batch_size=128, lr=2e-3, seed=0, backend="numpy",
                     classifier=None, progress=None):
    """Train a :class:`Classifier` on uint8 ``images (N, H, W)`` or ``(N, C, H, W)`` and int ``labels (N,)``.

    Adam, with the learning rate decayed along a half cosine from ``lr`` to 0
    over all the steps, so the last steps settle into a minimum instead of
    bouncing around it. ``seed`` fixes the initial weights (when no
    ``classifier`` is given) and the batch order: on NumPy the same call gives
    bitwise the same classifier. ``backend``: where to train. ``progress``: a
    text stream for one line per epoch (``None``: stderr, ``False``: silent).
    Returns the classifier, in eval mode.
    """
    stream = resolve_stream(progress)
    images, labels = np.asarray(images), np.asarray(labels).astype(np.int64)
    if images.ndim not in (3, 4) or labels.shape != (len(images),):
        raise ValueError(f"train_classifier: need images (N, H, W) or (N, C, H, W) and labels (N,), "
                         f"got {images.shape} and {labels.shape}")
    if not 0 < batch_size <= len(images):
        raise ValueError(f"train_classifier: batch_size must be between 1 and N = {len(images)}, got {batch_size}")
    if classifier is None:
        C = 1 if images.ndim == 3 else images.shape[1]
        classifier = Classifier(C, images.shape[-1], int(labels.max()) + 1, seed=seed)
    net = classifier.to(backend).train()
    dtype = next(iter(net.params.values())).dtype
    opt = Adam(net, lr=lr)
    rng = np.random.default_rng(seed)
    steps_per_epoch = len(images) // batch_size                                # the last partial batch is dropped
    total = epochs * steps_per_epoch
    first, first_input_grad = net.layers[0], net.layers[0].input_grad
    first.input_grad = False                            # the pictures are data: skip dLoss/dx at the first conv
    t0 = time.perf_counter()
    for epoch in range(epochs):
        order = rng.permutation(len(images))                                   # a fresh shuffle each epoch
        losses = []
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            x = B.asarray(to_input(images[idx], dtype), backend)               # (B, C, H, W) in [-1, 1]
            y = B.asarray(labels[idx], backend)                                # (B,)
            step = epoch * steps_per_epoch + i
            opt.lr = lr * 0.5 * (1 + math.cos(math.pi * step / total))          # cosine decay to 0
            opt.zero_grad()
            loss, dlogits = softmax_cross_entropy(net.forward(x), y)           # dlogits = (p - onehot) / B
            net.backward(dlogits)                                              # through the head, BN, convs
            opt.step()
            losses.append(loss)
        if stream is not None:
            stream.write(f"classifier epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.4f} "
                         f"({time.perf_counter() - t0:.0f} s)\n")
            stream.flush()
    first.input_grad = first_input_grad
    return net.eval()
