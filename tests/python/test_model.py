"""pinfer.Model: loading, info, both plaintext engines, check(); the version string."""

import re

import numpy as np
import pytest

import pinfer

from conftest import DIGITS, MODELS, run_pinfer_command


def test_version_matches_the_library():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", pinfer.__version__)
    assert pinfer.__version__ in run_pinfer_command("version")


def test_info(model):
    info = model.info()
    assert info["input_shape"] == (1, 1, 8, 8) == model.input_shape
    assert info["relus"] > 0 and info["macs"] > 0 and info["params"] > 0
    assert (info["l"], info["f"]) == (model.l, model.f)
    assert 2 * model.f + 2 <= model.l <= 64
    assert info["margin_bits"] > 0
    assert "digits.calib.npy" in info["calibration"]
    kinds = [layer["kind"] for layer in info["layers"]]
    assert kinds[0] == "Input" and "ReLU" in kinds
    assert all(isinstance(layer["shape"], tuple) for layer in info["layers"])


def test_builtin_model_by_name():
    names = pinfer.builtin_models()
    assert "resnet18:cifar10" in names
    info = pinfer.Model("resnet32:cifar10").info()
    assert info["input_shape"] == (1, 3, 32, 32)
    assert info["relus"] > 100_000


def test_run_float_and_fixed_point(model, images):
    x = images[0]
    y_float = model.run_float(x)
    y_fixed = model.run_fixed_point(x)
    ring = model.run_fixed_point(x, ring=True)
    assert y_float.dtype == np.float32 and y_float.shape == (10,)
    assert y_fixed.dtype == np.float64 and ring.dtype == np.uint64 and ring.shape == (10,)
    # The decoded logits are the ring elements read as signed l-bit numbers at scale 2^(2f).
    signed = ring.astype(np.int64)
    signed = np.where(signed >= 2 ** (model.l - 1), signed - 2**model.l, signed)
    assert np.array_equal(y_fixed, signed / 2.0 ** (2 * model.f))
    assert np.argmax(y_fixed) == np.argmax(y_float)
    assert np.max(np.abs(y_fixed - y_float)) < 0.05 * np.max(np.abs(y_float)) + 0.05
    # With or without the batch axis, and from float64 or nested lists, the same result.
    assert x.shape == (1, 8, 8)
    assert np.array_equal(model.run_float(x[None]), y_float)
    assert np.array_equal(model.run_fixed_point(x.astype(np.float64).tolist(), ring=True), ring)


def test_check_agrees_with_the_engines(model, images, labels):
    n = 40
    result = model.check(images[:n], labels[:n])
    assert result["samples"] == n
    top_float = [int(np.argmax(model.run_float(x))) for x in images[:n]]
    top_fixed = [int(np.argmax(model.run_fixed_point(x))) for x in images[:n]]
    assert result["agreement"] == np.mean(np.array(top_float) == np.array(top_fixed))
    assert result["accuracy"] == np.mean(np.array(top_fixed) == labels[:n])
    assert result["float_accuracy"] == np.mean(np.array(top_float) == labels[:n])
    assert result["accuracy"] > 0.9
    assert result["margin_bits"] > 0 and result["wrapped"] == 0
    unlabelled = model.check(images[:n])
    assert unlabelled["accuracy"] is None and unlabelled["agreement"] == result["agreement"]


def test_calibration_file_and_frac_bits():
    m = pinfer.Model(DIGITS, MODELS / "digits.calib.npy", frac_bits=9)
    assert m.f == 9 and m.calibration.endswith("digits.calib.npy")
