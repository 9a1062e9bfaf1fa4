"""pinfer: private inference of CNNs from Python.

A thin layer over libpinfer (the C++ library the `pinfer` command is built on): numpy arrays in
and out, one exception class per pinfer error kind, the GIL released during long calls.
See docs/PYTHON.md.

    import pinfer
    model = pinfer.Model("models/digits.onnx")
    with pinfer.Server(model, "client-garbler", store="/tmp/srv") as server:
        client = pinfer.Client(server, store="/tmp/cli")
        client.register()
        result = client.infer(x)          # result.prediction, result.logits, result.cost
"""

from ._pinfer import (  # noqa: F401  (the public API)
    Client,
    Error,
    FormatError,
    InferenceResult,
    InvalidArgument,
    IoError,
    Model,
    ProtocolError,
    Server,
    ServerBusyError,
    StoreError,
    Unsupported,
    __version__,
    build_type,
    builtin_models,
    characterize,
    simulate,
)
from ._torch import from_torch  # noqa: F401

__all__ = [
    "Client",
    "Error",
    "FormatError",
    "InferenceResult",
    "InvalidArgument",
    "IoError",
    "Model",
    "ProtocolError",
    "Server",
    "ServerBusyError",
    "StoreError",
    "Unsupported",
    "__version__",
    "builtin_models",
    "characterize",
    "from_torch",
    "simulate",
]
