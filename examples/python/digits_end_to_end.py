#!/usr/bin/python3
"""Train, export, serve and privately classify the digits CNN from Python (docs/PYTHON.md).

    PYTHONPATH=build/python /usr/bin/python3 examples/python/digits_end_to_end.py [--count N]

1. trains models/train_digits.py's DigitsNet on scikit-learn's 8x8 digits with PyTorch and
   exports it with pinfer.from_torch (without python3-torch / python3-sklearn -- install them
   with `scripts/install-deps.sh --train` -- it says so and uses the shipped models/digits.onnx
   and its held-out set instead);
2. serves it with pinfer.Server under each protocol (TLS 1.3 over loopback, certificate pinned)
   and classifies the held-out set privately with pinfer.Client;
3. prints plaintext and private accuracy side by side -- they must be equal, since private
   inference reproduces the fixed-point engine bit for bit (checked per image) -- and the cost
   of one inference (median over the images).
"""
import argparse
import os
import pathlib
import sys
import tempfile

import numpy as np

import pinfer

ROOT = pathlib.Path(__file__).resolve().parents[2]


def train(workdir):
    """Trains DigitsNet as models/train_digits.py does; returns (Model, test images, labels)."""
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    sys.path.insert(0, str(ROOT / "models"))
    from train_digits import DigitsNet

    torch.manual_seed(0)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0)
    net = DigitsNet()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for _ in range(40):
        net.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    calibration = os.path.join(workdir, "digits.calib.npy")
    np.save(calibration, x_train[:64])
    model = pinfer.from_torch(net, torch.from_numpy(x_test[:1]),
                              os.path.join(workdir, "digits.onnx"), calibration)
    return model, x_test, y_test


def shipped():
    model = pinfer.Model(ROOT / "models" / "digits.onnx")
    x = np.load(ROOT / "models" / "digits_test_images.npy")
    y = np.load(ROOT / "models" / "digits_test_labels.npy")
    return model, x, y


def private_run(model, protocol, x_test, y_test, workdir):
    """Classifies x_test privately; returns (accuracy, median costs)."""
    correct, costs = 0, []
    # reveal="logits": the client learns every class score, so that each image's private logits
    # can be checked against the fixed-point engine (the default, "label", reveals only the
    # predicted class).
    with pinfer.Server(model, protocol, store=os.path.join(workdir, protocol + "-server"),
                       reveal="logits") as server:
        with pinfer.Client(server, store=os.path.join(workdir, protocol + "-client")) as client:
            client.register()
            for x, label in zip(x_test, y_test):
                result = client.infer(x)  # offline phase on demand, then the online phase
                if not np.array_equal(result.logits_ring, model.run_fixed_point(x, ring=True)):
                    raise SystemExit(f"{protocol}: private logits differ from the fixed-point engine")
                correct += result.prediction == label
                c = result.cost
                costs.append((c["offline"]["seconds"],
                              c["offline"]["upload_bytes"] + c["offline"]["download_bytes"],
                              c["online"]["seconds"],
                              c["online"]["upload_bytes"] + c["online"]["download_bytes"],
                              c["client_storage_bytes"], c["server_storage_bytes"]))
    return correct / len(y_test), np.median(np.array(costs, dtype=np.float64), axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=0, help="classify only the first N images")
    parser.add_argument("--shipped", action="store_true", help="skip training, use models/digits.onnx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pinfer-example-") as workdir:
        model = None
        if not args.shipped:
            try:
                model, x_test, y_test = train(workdir)
                print(f"trained DigitsNet with PyTorch, exported to ONNX: {model!r}")
            except ImportError as e:
                print(f"training skipped ({e.name} is not installed; scripts/install-deps.sh "
                      "--train adds python3-torch and python3-sklearn): using the shipped "
                      "models/digits.onnx and its held-out set")
        if model is None:
            model, x_test, y_test = shipped()
        if args.count:
            x_test, y_test = x_test[:args.count], y_test[:args.count]
        info = model.info()
        print(f"pinfer {pinfer.__version__}: {info['name']}, {info['relus']} ReLUs, "
              f"{info['macs']} MACs, ring l = {info['l']}, f = {info['f']}")
        plain = model.check(x_test, y_test)
        print(f"{len(y_test)} held-out images; plaintext accuracy: float "
              f"{plain['float_accuracy']:.4f}, fixed point {plain['accuracy']:.4f}\n")
        print(f"{'protocol':<15} {'private acc':>11} {'plain acc':>9} {'offline s':>9} "
              f"{'offline MB':>10} {'online s':>8} {'online kB':>9} {'storage MB c/s':>15}")
        for protocol in ("server-garbler", "client-garbler"):
            accuracy, m = private_run(model, protocol, x_test, y_test, workdir)
            print(f"{protocol:<15} {accuracy:>11.4f} {plain['accuracy']:>9.4f} {m[0]:>9.3f} "
                  f"{m[1] / 1e6:>10.2f} {m[2]:>8.3f} {m[3] / 1e3:>9.1f} "
                  f"{m[4] / 1e6:>7.2f}/{m[5] / 1e6:<7.2f}")
            if accuracy != plain["accuracy"]:
                raise SystemExit("private and plaintext (fixed-point) accuracy differ")
        print("\nprivate == plaintext fixed-point accuracy for both protocols; every image's "
              "logits bit-exact (costs: medians per inference)")


if __name__ == "__main__":
    main()
