"""Library errors arrive as the matching pinfer exception class, message kept."""

import numpy as np
import pytest

import pinfer

from conftest import DIGITS


def test_exception_hierarchy():
    for kind in (pinfer.InvalidArgument, pinfer.FormatError, pinfer.ProtocolError,
                 pinfer.IoError, pinfer.StoreError, pinfer.Unsupported):
        assert issubclass(kind, pinfer.Error)
    assert issubclass(pinfer.Error, Exception)


def test_bad_path(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(pinfer.IoError, match="nope.onnx"):
        pinfer.Model(missing)
    with pytest.raises(pinfer.InvalidArgument, match="resnet99"):
        pinfer.Model("resnet99:cifar10")


def test_malformed_file(tmp_path):
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"\x08\x07not a model at all" * 10)
    with pytest.raises(pinfer.FormatError):
        pinfer.Model(bad)


def test_unsupported_operator(tmp_path):
    # The shipped model with every ReLU node's op_type (NodeProto field 4, a 4-byte string)
    # turned into Selu, an ONNX operator pinfer does not implement.
    data = DIGITS.read_bytes()
    assert data.count(b"\x22\x04Relu") > 0
    selu = tmp_path / "selu.onnx"
    selu.write_bytes(data.replace(b"\x22\x04Relu", b"\x22\x04Selu"))
    with pytest.raises(pinfer.Unsupported, match="Selu"):
        pinfer.Model(selu)


def test_wrong_input_shape(model):
    with pytest.raises(pinfer.InvalidArgument, match=r"\(3, 8\)"):
        model.run_float(np.zeros((3, 8), np.float32))
    with pytest.raises(pinfer.InvalidArgument, match="input"):
        model.run_fixed_point(np.zeros((1, 1, 8, 9), np.float32))
    with pytest.raises(pinfer.InvalidArgument, match="numeric"):
        model.run_float("not an image")
    with pytest.raises(pinfer.InvalidArgument, match="N inputs"):
        model.check(np.zeros((1, 8, 8), np.float32))
    with pytest.raises(pinfer.InvalidArgument, match="labels"):
        model.check(np.zeros((2, 1, 8, 8), np.float32), [1, 2, 3])


def test_bad_server_arguments(model, tmp_path):
    with pytest.raises(pinfer.InvalidArgument, match="protocol"):
        pinfer.Server(model, "no-garbler", store=tmp_path / "s")
    with pytest.raises(pinfer.InvalidArgument, match="capacity"):
        pinfer.Server(model, store=tmp_path / "s", capacity="lots")
    with pytest.raises(pinfer.InvalidArgument, match="tls=False") as refused:
        pinfer.Server(model, store=tmp_path / "s", host="192.0.2.1", tls=False)
    # The library's typed reason rides on the exception: no need to match the text.
    assert refused.value.reason == "plaintext refused"
