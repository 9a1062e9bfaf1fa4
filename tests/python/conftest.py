"""Shared fixtures: the shipped digits model, its held-out set, and a served model per protocol
(TLS 1.3 over loopback, the client pinning the server's self-signed certificate), revealing
the logits so that tests can compare them with the fixed-point engine."""

import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import pinfer

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
DIGITS = MODELS / "digits.onnx"
PROTOCOLS = ["server-garbler", "client-garbler"]


def run_pinfer_command(*args):
    """Runs the `pinfer` executable of the build this package comes from (<build>/src/cli/pinfer,
    else one on PATH) and returns its stdout; skips the test when there is none."""
    built = pathlib.Path(pinfer.__file__).resolve().parents[2] / "src" / "cli" / "pinfer"
    exe = str(built) if built.exists() else shutil.which("pinfer")
    if exe is None:
        pytest.skip("no pinfer executable next to this build or on PATH to compare with")
    proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="session")
def model():
    return pinfer.Model(DIGITS)


@pytest.fixture(scope="session")
def images():
    return np.load(MODELS / "digits_test_images.npy")


@pytest.fixture(scope="session")
def labels():
    return np.load(MODELS / "digits_test_labels.npy")


@pytest.fixture(scope="module", params=PROTOCOLS)
def served(request, model, tmp_path_factory):
    """(server, registered client) for each protocol."""
    tmp = tmp_path_factory.mktemp(request.param)
    with pinfer.Server(model, request.param, store=tmp / "server", capacity="2GB",
                       reveal="logits") as server:
        with pinfer.Client(server, store=tmp / "client", capacity="2GB") as client:
            client.register()
            yield server, client


@pytest.fixture(scope="module")
def cg_server(model, tmp_path_factory):
    """A client-garbler server for the tests that need only one protocol."""
    tmp = tmp_path_factory.mktemp("cg")
    with pinfer.Server(model, store=tmp / "server", capacity="2GB", reveal="logits") as server:
        yield server
