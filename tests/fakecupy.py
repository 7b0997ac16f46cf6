"""A strict stand-in for CuPy, backed by NumPy, so the GPU code path runs in tests without a GPU.

``fakecupy.cupy`` is a module object named ``cupy`` and ``fakecupy.cupyx`` one
named ``cupyx``; the ``fake_cupy`` fixture in ``tests/conftest.py`` installs
them where ``minigan.backend`` finds CuPy. Their array type,
:class:`ndarray`, is a *wrapper* around a NumPy array (not a subclass), whose
class lives in a module starting with ``cupy``, so ``minigan.backend`` takes it
for a CuPy array.

It is strict the way real CuPy is, so code that only works on the CPU fails here too:

- no implicit conversion to NumPy: ``np.asarray(a)``, ``np.array(a)`` and
  ``__array__`` raise ``TypeError`` (use ``a.get()`` or ``minigan.backend.to_numpy``);
- NumPy *functions* on a device array (``np.mean(a)``, ``np.concatenate``)
  raise ``TypeError``. (Real CuPy hands them to the CuPy function of the same
  name, which returns a *device* array where such code expects a host one;
  refusing them is stricter, and says where that happens.) NumPy *ufuncs*
  (``np.exp(a)``, ``a + 1``) run and return device arrays, as in CuPy;
- a NumPy array where CuPy wants a device array is a ``TypeError``
  (``a + np.ones(3)``, ``cupy.maximum(a, np.zeros(3))``), and assigning one
  into a device array (``a[...] = np.ones(3)``) a ``ValueError``;
- reductions and single-element indexing return 0-d device arrays, not
  scalars (``float(a.sum())`` works, ``json.dumps(a.sum())`` does not);
- ``empty``/``empty_like`` are filled with NaN, so reading memory never written shows;
- only names real CuPy has exist: a function CuPy lacks is an ``AttributeError``;
- every device-to-host transfer is counted in :data:`transfers` (``.get()``, ``float()``,
  ``int()``, ``bool()``, ``.item()``, ``.tolist()``, ``.tobytes()``, ``str``/``repr``/``format``,
  pickling, ``cupy.asnumpy``, and an attempted ``__array__``): on a GPU each one makes Python
  wait for every kernel queued before it, so tests can hold code to a budget of them.

For tests only: it is as fast as NumPy and knows nothing of devices or streams.
"""
from __future__ import annotations

import contextlib
import functools
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")

#: What CuPy's kernels accept besides device arrays: Python and NumPy scalars.
_PY_SCALARS = (int, float, bool, complex)


def _is_scalar(x) -> bool:
    return type(x) in _PY_SCALARS or (isinstance(x, np.generic) and x.dtype.kind in "biufc")


def _unsupported(x):
    return TypeError(f"Unsupported type {type(x)}")


class TransferCounter:
    """How many times a device array's data came to the host: ``transfers.count``.

    ``with transfers.counting() as c: ...`` gives the number made inside the block as ``c.count``.
    """

    def __init__(self):
        self.count = 0

    @contextlib.contextmanager
    def counting(self):
        block, start = types.SimpleNamespace(count=0), self.count
        try:
            yield block
        finally:
            block.count = self.count - start


#: Every device-to-host transfer made through the fake, counted.
transfers = TransferCounter()


# ---------------------------------------------------------------------------------- the array
class ndarray(NDArrayOperatorsMixin):
    """A device array: a NumPy array behind a wall (``.get()`` is the only door out)."""

    __array_priority__ = 100
    __slots__ = ("_a",)

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("fakecupy.ndarray: memptr and strides are not supported")
        self._a = np.empty(shape, dtype, order=order)

    @classmethod
    def _wrap(cls, a: np.ndarray) -> "ndarray":
        self = object.__new__(cls)
        self._a = a
        return self

    # -- attributes -----------------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: self if self.ndim < 2 else _wrap(self._a.T))
    device = property(lambda self: cuda.Device(0))

    @property
    def base(self):
        return None if self._a.base is None else _wrap(self._a.base)

    # -- the wall -------------------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        transfers.count += 1                              # an attempt: counted, then refused
        raise TypeError(IMPLICIT)

    def _to_host(self) -> np.ndarray:
        """The one door out: a host copy, counted as one transfer."""
        transfers.count += 1
        return np.array(self._a, copy=True)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"fakecupy: numpy.{func.__name__} called on a device array; use the array's own "
                        f"module (cupy.{func.__name__}) or bring it to the host first (.get())")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # As cupy.ndarray.__array_ufunc__: plain calls only; NumPy arrays are a TypeError.
        if method != "__call__":
            return NotImplemented
        out = kwargs.get("out", ())
        for x in inputs + tuple(out):
            if isinstance(x, ndarray) or _is_scalar(x):
                continue
            if isinstance(x, np.ndarray):
                if x.ndim == 0 and ufunc.__name__ in _COMPARISONS:
                    continue                                  # CuPy compares with a 0-d array's item
                raise _unsupported(x)
            return NotImplemented
        if out:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        if "where" in kwargs:
            kwargs["where"] = _device_arg(kwargs["where"])
        result = ufunc(*(_unwrap(x) for x in inputs), **kwargs)
        if out:
            return out[0] if len(out) == 1 else tuple(out)
        return _wrap(result)

    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy on the host (the only way out, as in CuPy)."""
        if out is not None:
            if not isinstance(out, np.ndarray):
                raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
            out[...] = self._to_host()
            return out
        return np.asarray(self._to_host(), order=order)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.dtype != self.dtype or arr.shape != self.shape:
            raise ValueError(f"set: {arr.dtype} {arr.shape} into {self.dtype} {self.shape}")
        self._a[...] = arr

    # -- conversions to Python (each one a synchronization on a real GPU) ----------------------
    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._to_host().item()

    def tolist(self):
        return self._to_host().tolist()

    def tobytes(self, order="C"):
        return self._to_host().tobytes(order)

    def __float__(self):
        return float(self._to_host())

    def __int__(self):
        return int(self._to_host())

    def __complex__(self):
        return complex(self._to_host())

    def __bool__(self):
        if self.size == 1:
            return bool(self._to_host())
        if self.size == 0:
            return False
        raise ValueError("The truth value of an array with more than one element is ambiguous. "
                         "Use a.any() or a.all()")

    def __repr__(self):
        return repr(self._to_host())

    def __str__(self):
        return str(self._to_host())

    def __format__(self, spec):
        return format(self._to_host(), spec)

    # -- containers -----------------------------------------------------------------------------
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key):
        key = _index(key)
        r = self._a[key]
        if isinstance(r, np.generic):                     # CuPy: a 0-d view, never a scalar
            key = key if isinstance(key, tuple) else (key,)
            r = np.asarray(r) if any(k is Ellipsis for k in key) else self._a[key + (Ellipsis,)]
        return _wrap(r)

    def __setitem__(self, key, value):
        key = _index(key)
        self._a[key] = _unwrap(value) if _is_advanced(key) else _value(value)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        return _from_host, (self._to_host(),)

    # -- methods (CuPy's signatures) -------------------------------------------------------------
    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        if casting is not None or subok is not None:
            raise TypeError("casting and subok are not supported")
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        return _wrap(self._a.astype(dtype, order=order))

    def copy(self, order="C"):
        return _wrap(self._a.copy(order=order))

    def view(self, dtype=None):
        return _wrap(self._a.view() if dtype is None else self._a.view(dtype))

    def fill(self, value):
        self._a.fill(_value(value))

    def reshape(self, *shape, order="C"):
        return _wrap(self._a.reshape(*shape, order=order))

    def transpose(self, *axes):
        return _wrap(self._a.transpose(*axes))

    def swapaxes(self, axis1, axis2):
        return _wrap(self._a.swapaxes(axis1, axis2))

    def ravel(self, order="C"):
        return _wrap(self._a.ravel(order))

    def flatten(self, order="C"):
        return _wrap(self._a.flatten(order))

    def squeeze(self, axis=None):
        return _wrap(self._a.squeeze(axis))

    def repeat(self, repeats, axis=None):
        return _wrap(self._a.repeat(repeats, axis))

    def take(self, indices, axis=None, out=None):
        return _call(np.take, self, indices, axis=axis, out=out)

    def nonzero(self):
        return _wrap(self._a.nonzero())

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _wrap(self._a.diagonal(offset, axis1, axis2))

    def dot(self, b, out=None):
        if not isinstance(b, ndarray):
            raise TypeError(f"Argument 'b' has incorrect type (expected cupy.ndarray, got {type(b).__name__})")
        return _call(np.dot, self, b, out=out)

    def sort(self, axis=-1):
        self._a.sort(axis)

    def argsort(self, axis=-1):
        return _wrap(self._a.argsort(axis))

    def conj(self):
        return _wrap(self._a.conj())

    def clip(self, min=None, max=None, out=None):
        return _call(np.clip, self, min, max, out=out)

    def round(self, decimals=0, out=None):
        return _call(np.round, self, decimals, out=out)

    def scatter_add(self, slices, value):
        cupyx.scatter_add(self, slices, value)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False):
        return _call(np.sum, self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False):
        return _call(np.prod, self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False):
        return _call(np.mean, self, axis=axis, dtype=dtype, out=out, keepdims=keepdims)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return _call(np.var, self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        return _call(np.std, self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims)

    def max(self, axis=None, out=None, keepdims=False):
        return _call(np.max, self, axis=axis, out=out, keepdims=keepdims)

    def min(self, axis=None, out=None, keepdims=False):
        return _call(np.min, self, axis=axis, out=out, keepdims=keepdims)

    def argmax(self, axis=None, out=None, dtype=None, keepdims=False):
        return _call(np.argmax, self, axis=axis, out=out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, dtype=None, keepdims=False):
        return _call(np.argmin, self, axis=axis, out=out, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return _call(np.cumsum, self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return _call(np.cumprod, self, axis=axis, dtype=dtype, out=out)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return _call(np.trace, self, offset, axis1, axis2, dtype=dtype, out=out)

    def put(self, indices, values, mode="wrap"):
        np.put(self._a, _unwrap(indices), _unwrap(values), mode=mode)

    def all(self, axis=None, out=None, keepdims=False):
        return _call(np.all, self, axis=axis, out=out, keepdims=keepdims)

    def any(self, axis=None, out=None, keepdims=False):
        return _call(np.any, self, axis=axis, out=out, keepdims=keepdims)


ndarray.__module__ = "cupy._core.core"      # what minigan.backend looks at: type(a).__module__
ndarray.__qualname__ = "ndarray"

_COMPARISONS = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal"}


# ---------------------------------------------------------------------------------- wrapping
def _wrap(x):
    """NumPy results -> device arrays (scalars become 0-d arrays, as CuPy returns them)."""
    if isinstance(x, np.ndarray):
        return ndarray._wrap(x)
    if isinstance(x, np.generic):
        return ndarray._wrap(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _unwrap(x):
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, tuple):
        return tuple(_unwrap(v) for v in x)
    if isinstance(x, list):
        return [_unwrap(v) for v in x]
    return x


def _device_arg(x):
    """An argument of a CuPy function: device arrays, scalars and plain data pass; a NumPy array does not."""
    if isinstance(x, np.ndarray):
        raise _unsupported(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_device_arg(v) for v in x)
    return _unwrap(x)


def _index(key):
    """An index: device arrays, and (as CuPy allows) NumPy arrays and lists of indices."""
    return _unwrap(key)


def _is_advanced(key) -> bool:
    """Whether an (unwrapped) index holds index arrays: CuPy then copies host values in, else it refuses them."""
    return any(isinstance(k, (np.ndarray, list)) for k in (key if isinstance(key, tuple) else (key,)))


def _value(value):
    """What may be assigned into a device array: a device array or a scalar (as CuPy's fill)."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, np.ndarray):
        if value.ndim:
            raise ValueError("non-scalar numpy.ndarray cannot be used for fill")
        return value.item()
    if not _is_scalar(value):
        raise _unsupported(value)
    return value


def _call(func, *args, out=None, **kwargs):
    """``func`` (a NumPy function) on device arguments: a device result, or ``out`` itself."""
    kwargs = {k: _device_arg(v) for k, v in kwargs.items()}
    if out is not None:
        if not isinstance(out, ndarray):
            raise TypeError(f"out must be a cupy.ndarray, got {type(out).__name__}")
        kwargs["out"] = out._a
    result = func(*_device_arg(args), **kwargs)
    return out if out is not None else _wrap(result)


def _from_host(obj, dtype=None, copy=True, order="K", ndmin=0, blocking=False):
    """``cupy.array``: host data (NumPy arrays, lists, scalars) or device arrays -> a device array.

    Host data is always copied: device memory is never the host's memory.
    """
    if isinstance(obj, ndarray):
        return _wrap(np.array(obj._a, dtype=dtype, copy=True if copy else None, order=order, ndmin=ndmin))
    if isinstance(obj, (list, tuple)) and any(isinstance(v, ndarray) for v in obj):
        obj = np.stack([v._a if isinstance(v, ndarray) else np.asarray(v) for v in obj])
    return _wrap(np.array(obj, dtype=dtype, copy=True, order=order, ndmin=ndmin))


# ---------------------------------------------------------------------------------- the module
def _ufunc(name):
    uf = getattr(np, name)

    @functools.wraps(uf)
    def call(*args, out=None, **kwargs):
        for x in args[:uf.nin]:
            if not (isinstance(x, ndarray) or _is_scalar(x)):
                raise _unsupported(x)
        outs = args[uf.nin:] + ((out,) if out is not None else ())
        if outs:
            if not all(isinstance(o, ndarray) for o in outs):
                raise TypeError("out must be a cupy.ndarray")
            kwargs["out"] = tuple(o._a for o in outs)
        kwargs = {k: (v if k == "out" else _device_arg(v)) for k, v in kwargs.items()}
        result = uf(*_unwrap(args[:uf.nin]), **kwargs)
        if outs:
            return outs[0] if len(outs) == 1 else outs
        return _wrap(result)
    return call


def _function(name, np_func=None):
    np_func = np_func or getattr(np, name)

    @functools.wraps(np_func)
    def call(*args, **kwargs):
        return _call(np_func, *args, **kwargs)
    return call


# The names below exist in real CuPy (checked against its API reference); a NumPy name that is
# not listed, e.g. a function CuPy lacks, is an AttributeError, as it would be on a GPU.
UFUNCS = """
add subtract multiply divide true_divide floor_divide negative positive power float_power remainder mod
fmod absolute abs fabs sign rint conj conjugate exp exp2 expm1 log log2 log10 log1p sqrt cbrt square
reciprocal sin cos tan arcsin arccos arctan arctan2 hypot sinh cosh tanh arcsinh arccosh arctanh deg2rad
rad2deg degrees radians maximum minimum fmax fmin floor ceil trunc isfinite isinf isnan signbit copysign
nextafter ldexp frexp modf logical_and logical_or logical_xor logical_not greater greater_equal less
less_equal equal not_equal bitwise_and bitwise_or bitwise_xor invert bitwise_not left_shift right_shift
matmul logaddexp logaddexp2 heaviside gcd lcm divmod
""".split()
FUNCTIONS = """
zeros_like ones_like full_like copy arange linspace logspace eye identity diag diagflat tri tril triu
meshgrid reshape ravel transpose swapaxes moveaxis rollaxis expand_dims squeeze broadcast_to
broadcast_arrays atleast_1d atleast_2d atleast_3d concatenate stack vstack hstack dstack column_stack
split array_split hsplit vsplit tile repeat flip fliplr flipud roll rot90 pad where nonzero argwhere
flatnonzero take take_along_axis put place choose compress diagonal trace unique sort argsort lexsort
partition argpartition searchsorted count_nonzero copyto append sum prod mean var std max min amax
amin argmax argmin all any cumsum cumprod diff median average percentile quantile nanmax nanmin nansum
nanmean nanprod nanstd nanvar ptp histogram bincount cov corrcoef round around nan_to_num real imag
angle isclose allclose array_equal isscalar ndim shape size result_type can_cast promote_types dot
vdot inner outer tensordot einsum kron cross interp convolve correlate clip ascontiguousarray
asfortranarray
""".split()
DTYPES = """
float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64 bool_ complex64 complex128
intp int_ dtype finfo iinfo newaxis pi e inf nan integer floating number generic
""".split()


def _filled_nan(a):
    if a.dtype.kind in "fc":
        a.fill(np.nan)                                # never-written memory shows as NaN
    return a


def _module(name, doc, attrs):
    mod = types.ModuleType(name, doc)
    mod.__dict__.update(attrs)
    return mod


def _strict_getattr(module_name):
    def __getattr__(name):
        raise AttributeError(f"module '{module_name}' has no attribute '{name}' (fakecupy knows only "
                             "what real CuPy has; add it to tests/fakecupy.py if CuPy has it)")
    return __getattr__


class _MemoryPool:
    """``cupy.get_default_memory_pool()``: nothing is pooled on the host."""

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_bytes(self):
        return 0

    def n_free_blocks(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass

    def set_limit(self, size=None, fraction=None):
        pass

    def get_limit(self):
        return 0


_POOL, _PINNED_POOL = _MemoryPool(), _MemoryPool()


class _Device:
    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)

    def synchronize(self):
        pass

    def use(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Stream:
    def __init__(self, null=False, non_blocking=False, ptr=0):
        self.ptr = ptr

    def synchronize(self):
        pass

    def use(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_Stream.null = _Stream(null=True)


class CUDARuntimeError(RuntimeError):
    pass


cuda = _module("cupy.cuda", "fake cupy.cuda", {
    "runtime": _module("cupy.cuda.runtime", "fake cupy.cuda.runtime", {
        "getDeviceCount": lambda: 1, "CUDARuntimeError": CUDARuntimeError,
        "deviceSynchronize": lambda: None, "runtimeGetVersion": lambda: 12000}),
    "Device": _Device, "Stream": _Stream,
    "get_current_stream": lambda: _Stream.null,
    "is_available": lambda: True,
})


def _as_strided(x, shape=None, strides=None):
    if not isinstance(x, ndarray):
        raise _unsupported(x)
    return _wrap(np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides))


def _rng_function(name):
    def call(*args, **kwargs):
        return _wrap(getattr(np.random, name)(*args, **kwargs))
    return call


_random = _module("cupy.random", "fake cupy.random (NumPy's global generator)", {
    name: _rng_function(name) for name in
    "seed rand randn randint random random_sample standard_normal normal uniform permutation shuffle".split()})
_random.__getattr__ = _strict_getattr("cupy.random")

_linalg = _module("cupy.linalg", "fake cupy.linalg", {
    name: _function(name, getattr(np.linalg, name)) for name in
    "norm inv solve eigh eigvalsh svd qr cholesky det slogdet pinv matrix_rank lstsq matrix_power".split()})
_linalg.__getattr__ = _strict_getattr("cupy.linalg")


def _get_array_module(*args):
    return cupy if any(isinstance(a, ndarray) for a in args) else np


def _asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(stream, order, out)
    return np.asarray(a, order=order)


def _asarray(a, dtype=None, order=None, blocking=False):
    if isinstance(a, ndarray):                        # as cupy.asarray: no copy when none is needed
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    return _from_host(a, dtype=dtype, order=order or "K")


def _creation(name):
    np_func = getattr(np, name)

    @functools.wraps(np_func)
    def call(*args, **kwargs):
        a = np_func(*args, **kwargs)
        return _wrap(_filled_nan(a) if name == "empty" else a)
    return call


def _empty_like(prototype, dtype=None, order="K", subok=None, shape=None):
    if not isinstance(prototype, ndarray):
        raise _unsupported(prototype)
    return _wrap(_filled_nan(np.empty_like(prototype._a, dtype=dtype, order=order, shape=shape)))


_attrs = {name: _ufunc(name) for name in UFUNCS}
_attrs.update({name: _function(name) for name in FUNCTIONS})
_attrs.update({name: getattr(np, name) for name in DTYPES})
_attrs.update({name: _creation(name) for name in ("zeros", "ones", "full", "empty")})
_attrs.update(
    __version__="13.0.0+fake",
    ndarray=ndarray,
    array=_from_host,
    asarray=_asarray,
    asanyarray=_asarray,
    asnumpy=_asnumpy,
    empty_like=_empty_like,
    get_array_module=_get_array_module,
    cuda=cuda,
    random=_random,
    linalg=_linalg,
    lib=_module("cupy.lib", "fake cupy.lib", {
        "stride_tricks": _module("cupy.lib.stride_tricks", "fake", {"as_strided": _as_strided})}),
    get_default_memory_pool=lambda: _POOL,
    get_default_pinned_memory_pool=lambda: _PINNED_POOL,
)

#: The fake ``cupy`` module.
cupy = _module("cupy", __doc__, _attrs)
cupy.__getattr__ = _strict_getattr("cupy")


def _scatter(op):
    def call(a, slices, value):
        if not isinstance(a, ndarray):
            raise _unsupported(a)
        op.at(a._a, _index(slices), _unwrap(value))    # as CuPy: host values are copied in
    return call


#: The fake ``cupyx`` module (``cupyx.scatter_add`` and friends).
cupyx = _module("cupyx", "fake cupyx", {
    "scatter_add": _scatter(np.add), "scatter_max": _scatter(np.maximum), "scatter_min": _scatter(np.minimum)})
cupyx.__getattr__ = _strict_getattr("cupyx")
