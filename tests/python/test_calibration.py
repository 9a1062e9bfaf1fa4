"""Real calibration: pinfer.Model(path, calibration=...) chooses the ring on the given inputs,
and Model.check shows what that ring does to other data (the worst margin; <= 0: it wrapped)."""

import numpy as np
import pytest

import pinfer

from conftest import DIGITS


def test_check_reports_a_ring_too_small_for_the_data(images, labels, tmp_path):
    real = tmp_path / "real.npy"
    np.save(real, images[:64].astype(np.float32))
    model = pinfer.Model(DIGITS, calibration=real)
    assert model.calibration.endswith("real.npy")
    # Calibrated on the images, the ring has room for them ...
    fitted = model.check(images[:24], labels[:24])
    assert fitted["margin_bits"] > 0 and fitted["wrapped"] == 0
    assert fitted["agreement"] >= 0.9 and fitted["accuracy"] >= 0.9
    # ... but not for much brighter ones: the check shows the ring wrapping, and where.
    bright = model.check(images[:24] * 64)
    assert bright["margin_bits"] <= 0 and bright["wrapped"] > 0
    assert isinstance(bright["worst_layer"], str) and bright["worst_layer"]


def test_calibration_file_errors(images, tmp_path):
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY not really")
    with pytest.raises(pinfer.FormatError):
        pinfer.Model(DIGITS, calibration=bad)
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((4, 1, 7, 7), dtype=np.float32))
    with pytest.raises(pinfer.InvalidArgument, match="wrong.npy"):
        pinfer.Model(DIGITS, calibration=wrong)
    with pytest.raises(pinfer.IoError):
        pinfer.Model(DIGITS, calibration=tmp_path / "missing.npy")


def test_check_errors(model, images, labels):
    with pytest.raises(pinfer.InvalidArgument, match="labels"):
        model.check(images[:5], labels[:4])
    with pytest.raises(pinfer.InvalidArgument):
        model.check(np.zeros((3, 1, 9, 9), dtype=np.float32))
