"""Hostile safetensors files: every claimed size is checked against the file before anything is built.

``load_safetensors`` reads the header, computes the network's layout without building it
(``NetSpec.layout``), and refuses a mismatch; memory is measured with tracemalloc (numpy
reports its allocations there), never wall-clock.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("safetensors")
import safetensors.numpy  # noqa: E402

from minigan.models import load_safetensors, save_safetensors  # noqa: E402
from minigan.models.pytorch_layout import D_FORMS, NetSpec, WHERE_SIZES_ARE, torch_layout, torch_state_dict  # noqa: E402
from minigan.models.safetensors_file import WeightsFileError  # noqa: E402

MiB = 2**20


def peak_bytes(fn):
    """``(peak traced bytes, the exception fn raised or None)``."""
    NetSpec("dcgan28", "G").layout(), NetSpec("dcgan64", "D").layout()   # warm the small probe cache first
    tracemalloc.start()
    try:
        fn()
        error = None
    except WeightsFileError as e:
        error = e
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, error


def write(path, tensors, metadata=None):
    path.write_bytes(safetensors.numpy.save(tensors, metadata=metadata))
    return path


@settings(max_examples=20)
@given(where=st.sampled_from(list(WHERE_SIZES_ARE)), form=st.sampled_from(D_FORMS), sigmoid=st.booleans(),
       sizes=st.tuples(*[st.integers(1, 9)] * 4))
def test_the_layout_without_building_is_the_built_networks(where, form, sigmoid, sizes):
    spec = NetSpec(*where, *sizes, sigmoid=sigmoid, d_norm=form[0], spectral_norm=form[1])
    assert spec.layout() == torch_layout(spec.build())


@settings(max_examples=20)
@given(where=st.sampled_from(list(WHERE_SIZES_ARE)), conditional=st.sampled_from(["concat", "projection"]),
       K=st.integers(1, 12), sizes=st.tuples(*[st.integers(1, 9)] * 4))
def test_a_conditional_networks_layout_without_building_is_the_built_networks(where, conditional, K, sizes):
    spec = NetSpec(*where, *sizes, num_classes=K, conditional=conditional)    # K is one more size
    assert spec.layout() == torch_layout(spec.build())


@pytest.mark.parametrize("arch, net, size", [("dcgan28", "G", "ngf"), ("dcgan64", "D", "ndf")])
def test_a_tiny_file_claiming_a_huge_network_is_refused_before_anything_is_built(tmp_path, arch, net, size):
    path = write(tmp_path / "tiny.safetensors", {"x": np.zeros(1, np.float32)},
                 {"minigan.arch": arch, "minigan.net": net, f"minigan.{size}": "2048"})
    assert path.stat().st_size < 200
    peak, error = peak_bytes(lambda: load_safetensors(path))
    assert error is not None and "no key '0.weight'" in str(error)
    assert peak < 1 * MiB                                    # not the 11 GB that network would take


def test_metadata_claiming_more_than_the_arrays_hold_is_refused(tmp_path):
    spec = NetSpec("dcgan28", "G", nz=4, ngf=2, nc=1)
    path = tmp_path / "G.safetensors"
    write(path, torch_state_dict(spec.build()), {"minigan.arch": "dcgan28", "minigan.net": "G",
                                                 "minigan.nz": "4", "minigan.ngf": "1024", "minigan.nc": "1"})
    peak, error = peak_bytes(lambda: load_safetensors(path))
    assert error is not None and "ngf=1024" in str(error) and "has shape" in str(error)
    assert peak < 1 * MiB


def test_a_file_without_metadata_whose_one_big_array_implies_a_huge_network(tmp_path):
    state = torch_state_dict(NetSpec("dcgan28", "G", nz=4, ngf=1, nc=1).build())
    state["6.weight"] = np.zeros((2048, 1, 4, 4), np.float32)     # reads as ngf 1024: 154 M numbers elsewhere
    path = write(tmp_path / "G.safetensors", state)
    peak, error = peak_bytes(lambda: load_safetensors(path))
    assert error is not None and "matches none of minigan's networks" in str(error)
    assert peak < 2 * MiB                                         # the header only (the file is 130 kB)


def test_loading_costs_about_the_memory_of_the_tensors(tmp_path):
    spec = NetSpec("dcgan28", "G", ngf=16)
    path = save_safetensors(spec.build(), tmp_path / "G.safetensors", spec)
    peak, error = peak_bytes(lambda: load_safetensors(path))
    assert error is None
    assert peak < 6 * path.stat().st_size       # the arrays, and the network (whose init draws in float64)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_weights_are_refused_naming_the_tensor(tmp_path, bad):
    spec = NetSpec("dcgan28", "D", ndf=2, nc=1)
    state = torch_state_dict(spec.build())
    state["3.weight"] = state["3.weight"].copy()
    state["3.weight"].flat[1] = bad
    path = write(tmp_path / "D.safetensors", state)
    with pytest.raises(WeightsFileError, match=r"'3\.weight' holds NaN or infinite values"):
        load_safetensors(path)
