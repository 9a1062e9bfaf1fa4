"""pinfer.from_torch (needs python3-torch; skipped without it)."""

import numpy as np
import pytest

import pinfer

torch = pytest.importorskip("torch", reason="python3-torch is not installed "
                                              "(scripts/install-deps.sh --train adds it)")


def test_from_torch_exports_a_model_pinfer_runs(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 10))
    net.eval()
    x = torch.rand(1, 1, 8, 8)
    model = pinfer.from_torch(net, x, tmp_path / "tiny.onnx")
    assert isinstance(model, pinfer.Model) and model.input_shape == (1, 1, 8, 8)
    with torch.no_grad():
        expected = net(x).numpy()[0]
    assert np.allclose(model.run_float(x.numpy()), expected, atol=1e-4)
    assert np.argmax(model.run_fixed_point(x.numpy())) == np.argmax(expected)
