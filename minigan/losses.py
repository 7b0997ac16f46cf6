"""Binary cross-entropy, the GAN's loss, with its gradient written out.

For a probability p = D(x) and a target y (1 = real, 0 = fake)::

    BCE(p, y) = -[ y log p + (1 - y) log(1 - p) ]          averaged over the batch
    dBCE/dp   = (p - y) / (p (1 - p))                       divided by the batch size

When p came from a sigmoid, p = sigma(z), the chain rule multiplies by
dp/dz = p (1 - p), and everything cancels to the famous::

    dBCE/dz = p - y

which is what :func:`bce_with_logits` returns directly, and what ``bce`` followed
by ``Sigmoid.backward`` computes in two steps -- as long as p is not saturated.
``bce`` clamps ``log`` at -100 as PyTorch's ``BCELoss`` does, so a saturated D
gives a large but finite loss instead of inf. Its gradient is another matter.
Above a logit of about +17, float32's p rounds to exactly 1, p (1 - p) to 0,
and the two-step gradient is 0. Below about -27.6, p (1 - p) falls under the
1e-12 floor that keeps ``dp`` finite, and the two-step gradient shrinks with p
instead of staying -1 -- so a G whose samples D rejects with total certainty
learns nothing. PyTorch's ``BCELoss`` after a ``Sigmoid`` behaves the same
(the DCGAN recipe accepts it); ``bce_with_logits`` on the logit keeps the
gradient p - y exact at any logit.

:func:`softmax_cross_entropy`, for the classifier in ``minigan.job.metrics``, is the
many-class version of the same story: its gradient is softmax(z) - onehot(y).
"""
from __future__ import annotations

from .backend import get_array_module
from .nn.activations import sigmoid

LOG_CLAMP = -100.0   # PyTorch's BCELoss clamps log(p) and log(1 - p) at -100
TINY = 1e-45         # log never sees 0 (no warning); log(TINY) < -100, so the clamp decides
GRAD_EPS = 1e-12     # ... and divides by max(p (1 - p), 1e-12) in its backward


def _target_like(p, target):
    xp = get_array_module(p)
    t = xp.asarray(target, dtype=p.dtype)
    if t.ndim and t.shape != p.shape:
        raise ValueError(f"bce: target shape {tuple(t.shape)} does not match prediction shape {tuple(p.shape)}")
    return xp.broadcast_to(t, p.shape)


def bce(p, target):
    """Mean binary cross-entropy on probabilities.

    p:      (N, ...) probabilities in [0, 1]
    target: a number (e.g. 1.0 for "real") or an array of p's shape
    return: (loss as a Python float, dp of p's shape)
    """
    loss, dp = bce_array(p, target)
    return float(loss), dp


def bce_array(p, target):
    """:func:`bce` with the loss left where p is: ``(loss as a 0-d float64 array, dp)``.

    The trainer uses this form: on a GPU, ``float(loss)`` would make Python wait
    for every kernel queued so far (minigan/step_stats.py).
    """
    xp = get_array_module(p)
    y = _target_like(p, target)
    log_p = xp.maximum(xp.log(xp.maximum(p, TINY)), LOG_CLAMP)      # log(0) would be -inf: -100
    log_1mp = xp.maximum(xp.log(xp.maximum(1 - p, TINY)), LOG_CLAMP)
    loss = -(y * log_p + (1 - y) * log_1mp).mean()
    dp = (p - y) / xp.maximum(p * (1 - p), GRAD_EPS) / p.size       # dBCE/dp, mean over the batch
    return as_float64(loss), dp


def bce_with_logits(z, target):
    """Mean binary cross-entropy on logits z (before the sigmoid), in the stable form.

    loss = mean( max(z, 0) - z*y + log(1 + exp(-|z|)) )   (never overflows)
    dz   = (sigmoid(z) - y) / N                            the p - y of the module docstring

    return: (loss as a Python float, dz of z's shape)
    """
    loss, dz = bce_with_logits_array(z, target)
    return float(loss), dz


def bce_with_logits_array(z, target):
    """:func:`bce_with_logits` with the loss left where z is: ``(loss as a 0-d float64 array, dz)``."""
    xp = get_array_module(z)
    y = _target_like(z, target)
    loss = (xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))).mean()
    dz = (sigmoid(z) - y) / z.size
    return as_float64(loss), dz


def as_float64(value):
    """A 0-d result (a mean, in the model's dtype) in float64, on its own backend: the precision of
    the Python float it stands for, so sums of losses round exactly as sums of floats do."""
    return value.astype("float64")


# -- softmax cross-entropy: the loss of a K-class classifier (minigan.job.metrics) ----------------------

def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of integer class labels under ``softmax(logits)``.

    logits: (N, K) unnormalized scores z, on either backend
    labels: (N,) int class indices in [0, K)
    return: (loss as a Python float, dlogits of shape (N, K))

    With ``p = softmax(z)``, ``p_k = exp(z_k) / sum_j exp(z_j)``::

        loss = mean_n [ -log p_{n, y_n} ] = mean_n [ logsumexp(z_n) - z_{n, y_n} ]
        dz   = (p - onehot(y)) / N

    the multi-class twin of the ``p - y`` of BCE with logits. ``logsumexp`` is
    taken in the stable form ``m + log sum_j exp(z_j - m)`` with ``m = max_j z_j``:
    every ``exp`` sees a number <= 0, so logits of 1000 give no overflow.
    """
    xp = get_array_module(logits)
    if getattr(logits, "ndim", 0) != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be (N, K), got {getattr(logits, 'shape', type(logits))}")
    N, K = logits.shape
    y = xp.asarray(labels)
    if y.shape != (N,) or y.dtype.kind not in "iu":
        raise ValueError(f"softmax_cross_entropy: labels must be ({N},) integer class indices, "
                         f"got {y.dtype} {tuple(y.shape)}")
    if N and (int(y.min()) < 0 or int(y.max()) >= K):
        raise ValueError(f"softmax_cross_entropy: labels must be in [0, {K}), got values in "
                         f"[{int(y.min())}, {int(y.max())}]")
    shifted = logits - logits.max(axis=1, keepdims=True)             # (N, K), max 0 in each row
    log_sum = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))     # (N, 1), in [0, log K]
    log_p = shifted - log_sum                                        # (N, K) log-softmax
    rows = xp.arange(N)
    loss = -log_p[rows, y].mean()
    dz = xp.exp(log_p)                                               # softmax p
    dz[rows, y] -= 1                                                 # p - onehot(y)
    dz /= N                                                          # d mean(-log p_y)/dz = (p - onehot) / N
    return float(loss), dz
