"""Shared fixtures: the shipped digits model, its held-out set, and a served model per protocol
(TLS 1.3 over loopback, the client pinning the server's self-signed certificate)."""

import pathlib

import numpy as np
import pytest

import pinfer

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
DIGITS = MODELS / "digits.onnx"
PROTOCOLS = ["server-garbler", "client-garbler"]


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
    with pinfer.Server(model, request.param, store=tmp / "server", capacity="2GB") as server:
        with pinfer.Client(server, store=tmp / "client", capacity="2GB") as client:
            client.register()
            yield server, client


@pytest.fixture(scope="module")
def cg_server(model, tmp_path_factory):
    """A client-garbler server for the tests that need only one protocol."""
    tmp = tmp_path_factory.mktemp("cg")
    with pinfer.Server(model, store=tmp / "server", capacity="2GB") as server:
        yield server
