"""scripts/export_torchvision.py (needs python3-torch and python3-torchvision; skipped without
them: scripts/install-deps.sh --torch adds them)."""

import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import pinfer

torch = pytest.importorskip("torch", reason="python3-torch is not installed "
                                              "(scripts/install-deps.sh --torch adds it)")
pytest.importorskip("torchvision", reason="python3-torchvision is not installed "
                                          "(scripts/install-deps.sh --torch adds it)")

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "export_torchvision.py"


def load_script():
    spec = importlib.util.spec_from_file_location("export_torchvision", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=600, check=False)


def test_squeezenet_exports_and_pinfer_reproduces_torch(tmp_path):
    # SqueezeNet 1.1 at 3x32x32: ceil_mode max pools, fire-module Concat, a classifier conv and a
    # global average pool as the output (a linear layer of its own in pinfer).
    script = load_script()
    out = tmp_path / "squeezenet1_1.onnx"
    args = script.parser().parse_args(["squeezenet1_1", "--input", "3x32x32", "--out", str(out),
                                       "--classes", "10", "--calibration-from-random", "4"])
    import torchvision  # noqa: PLC0415

    net, x, _, _, logits, shape, calib = script.export(np, torch, torchvision, args)
    assert shape == (3, 32, 32)
    assert np.load(calib).shape == (4, 3, 32, 32)
    model = pinfer.Model(out)  # picks squeezenet1_1.calib.npy beside it
    assert model.info()["calibration"].startswith(str(calib))
    with torch.no_grad():
        for k in range(x.shape[0]):
            expected = net(torch.from_numpy(x[k:k + 1])).numpy()[0]
            got = model.run_float(x[k])
            assert np.allclose(got, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())
    assert np.argmax(model.run_float(x[0])) == int(logits.argmax())


def test_bad_arguments_are_named(tmp_path):
    r = run_script("resnet_no_such", "--input", "3x32x32", "--out", str(tmp_path / "a.onnx"))
    assert r.returncode == 2 and "unknown torchvision network 'resnet_no_such'" in r.stderr
    assert "resnet18" in r.stderr  # the known names are listed
    r = run_script("resnet18", "--input", "3x32", "--out", str(tmp_path / "a.onnx"))
    assert r.returncode == 2 and "--input '3x32' is not CxHxW" in r.stderr
    r = run_script("resnet18", "--input", "1x32x32", "--out", str(tmp_path / "a.onnx"))
    assert r.returncode == 2 and "3 channels" in r.stderr
    r = run_script("resnet18", "--input", "3x32x32", "--out", str(tmp_path / "a.txt"))
    assert r.returncode == 2 and "--out must name a .onnx file" in r.stderr
    bad = tmp_path / "calib.npy"
    np.save(bad, np.zeros((2, 3, 16, 16), np.float32))
    r = run_script("resnet18", "--input", "3x32x32", "--out", str(tmp_path / "a.onnx"),
                   "--calibration-npy", str(bad))
    assert r.returncode == 2 and "has shape 2x3x16x16, expected N x 3 x 32 x 32" in r.stderr
    assert not (tmp_path / "a.onnx").exists()
