#!/usr/bin/python3
"""Exports a torchvision classification network to ONNX for pinfer, with a calibration set.

    /usr/bin/python3 scripts/export_torchvision.py NAME --input 3x64x64 --out model.onnx
        [--calibration-from-random N | --calibration-npy FILE] [--classes N] [--seed S]
        [--weights STATE_DICT.pth] [--calibration-out FILE]

Needs Debian's python3-torch and python3-torchvision (`scripts/install-deps.sh --torch`).

Weights: torchvision's own random initialisation from --seed (pretrained weights are downloaded
from the internet, which pinfer's build machines cannot reach), or a local state dict given with
--weights. With random weights, BatchNorm's running statistics are re-estimated on the
calibration inputs (one pass in training mode, cumulative average) so every normalised
activation has mean about 0 and variance about 1, as in a trained network; with torchvision's
initial statistics (mean 0, variance 1) activations grow or shrink layer after layer.

Writes OUT (the network, opset 13, batch 1, input "input", output "logits") and the calibration
inputs as float32 N x C x H x W to OUT with ".calib.npy" in place of ".onnx" (pinfer reads that
file beside the model to choose its fixed-point ring; docs/MODELS.md).
"""

import argparse
import os
import re
import sys

# Families checked end to end by scripts/torchvision_families.sh (docs/MODELS.md); any other
# classification builder of torchvision.models is accepted and may or may not load in pinfer.
TESTED = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "densenet121"]


class UsageError(Exception):
    """A bad argument: printed as one line, exit status 2."""


def parse_input(spec):
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*[xX]\s*(\d+)\s*", spec or "")
    if not m:
        raise UsageError(f"--input {spec!r} is not CxHxW (e.g. 3x64x64)")
    c, h, w = (int(v) for v in m.groups())
    if c != 3:
        raise UsageError(f"--input {spec}: torchvision's networks take 3 channels, not {c}")
    if not (8 <= h <= 1024 and 8 <= w <= 1024):
        raise UsageError(f"--input {spec}: height and width must be in 8..1024")
    return c, h, w


def classification_builders(torchvision):
    """Names of torchvision's image-classification builders (torchvision >= 0.14)."""
    models = torchvision.models
    if hasattr(models, "list_models"):
        return sorted(models.list_models(module=models))
    return sorted(n for n in dir(models) if n.islower() and not n.startswith("_")
                  and callable(getattr(models, n)))


def build(torch, torchvision, name, classes, seed, weights):
    names = classification_builders(torchvision)
    if name not in names:
        raise UsageError(f"unknown torchvision network {name!r}; tested: {', '.join(TESTED)}; "
                         f"all of torchvision {torchvision.__version__}: {', '.join(names)}")
    torch.manual_seed(seed)
    builder = getattr(torchvision.models, name)
    try:
        net = builder(weights=None, num_classes=classes)
    except TypeError:  # builders of torchvision < 0.13 take `pretrained`
        net = builder(pretrained=False, num_classes=classes)
    if weights:
        try:
            state = torch.load(weights, map_location="cpu")
        except (OSError, RuntimeError, ValueError) as e:
            raise UsageError(f"--weights {weights}: cannot read a state dict ({e})") from e
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        try:
            net.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as e:
            raise UsageError(f"--weights {weights} does not fit {name} with {classes} classes: "
                             f"{str(e).splitlines()[0]}") from e
    return net


def calibration_inputs(np, args, shape):
    c, h, w = shape
    if args.calibration_npy:
        try:
            x = np.load(args.calibration_npy, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UsageError(f"--calibration-npy {args.calibration_npy}: cannot read ({e})") from e
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or tuple(x.shape[1:]) != (c, h, w) or x.shape[0] == 0:
            raise UsageError(f"--calibration-npy {args.calibration_npy} has shape "
                             f"{'x'.join(map(str, x.shape))}, expected N x {c} x {h} x {w}")
        if not np.issubdtype(x.dtype, np.floating) or not np.all(np.isfinite(x)):
            raise UsageError(f"--calibration-npy {args.calibration_npy}: need finite floats, "
                             f"got dtype {x.dtype}")
        return np.ascontiguousarray(x, dtype=np.float32), f"{args.calibration_npy}"
    n = args.calibration_from_random
    if n < 2:
        raise UsageError("--calibration-from-random needs at least 2 inputs (BatchNorm statistics "
                         "are estimated on them)")
    rng = np.random.default_rng(args.seed)
    x = rng.random((n, c, h, w), dtype=np.float32)  # uniform [0, 1), as pinfer's own inputs
    return x, f"{n} random uniform [0, 1) inputs (seed {args.seed})"


def recalibrate_batch_norm(torch, net, x):
    """Re-estimates every BatchNorm's running mean and variance on `x` (cumulative average)."""
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    with torch.no_grad():
        for start in range(0, x.shape[0], 32):
            batch = x[start:start + 32]
            if batch.shape[0] < 2:  # training-mode BatchNorm needs two values per channel
                batch = x[-2:]
            net(batch)
    net.eval()
    return len(bns)


def export(np, torch, torchvision, args):
    """Builds, calibrates and exports; returns (net, calibration inputs, their source, BatchNorm
    layers re-estimated, float logits of input 0, (C, H, W), calibration file)."""
    if not args.name:
        raise UsageError("missing NAME (e.g. resnet18; --list shows all)")
    if not args.out or not args.out.endswith(".onnx"):
        raise UsageError("--out must name a .onnx file")
    if not 11 <= args.opset <= 17:
        raise UsageError(f"--opset {args.opset}: pinfer reads opsets 11..17")
    if not 2 <= args.classes <= 100000:
        raise UsageError(f"--classes {args.classes}: need 2..100000")
    shape = parse_input(args.input)
    x_np, source = calibration_inputs(np, args, shape)
    net = build(torch, torchvision, args.name, args.classes, args.seed, args.weights)
    x = torch.from_numpy(x_np)
    if not args.weights and x.shape[0] < 2:
        raise UsageError("random weights need at least 2 calibration inputs (BatchNorm "
                         "statistics are estimated on them)")
    n_bn = 0 if args.weights else recalibrate_batch_norm(torch, net, x)
    net.eval()
    with torch.no_grad():
        try:
            logits = net(x[:1])
        except RuntimeError as e:
            raise UsageError(f"{args.name} does not run on a {args.input} input: "
                             f"{str(e).splitlines()[0]}") from e
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.onnx.export(net, x[:1], args.out, opset_version=args.opset,
                      input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    calib_out = args.calibration_out or args.out[:-len(".onnx")] + ".calib.npy"
    np.save(calib_out, x_np)
    return net, x_np, source, n_bn, logits, shape, calib_out


def parser():
    p = argparse.ArgumentParser(
        description="Export a torchvision classifier to ONNX (+ calibration .npy) for pinfer.")
    p.add_argument("name", nargs="?", help="torchvision builder, e.g. resnet18 (see --list)")
    p.add_argument("--input", default="3x224x224", help="CxHxW of one input (default 3x224x224)")
    p.add_argument("--out", help="ONNX file to write")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--calibration-from-random", type=int, default=16, metavar="N",
                   help="N random uniform [0,1) inputs as the calibration set (default 16)")
    g.add_argument("--calibration-npy", metavar="FILE",
                   help="float N x C x H x W inputs (preprocessed as the model expects)")
    p.add_argument("--calibration-out", metavar="FILE",
                   help="where the calibration set goes (default OUT with .calib.npy)")
    p.add_argument("--classes", type=int, default=1000, help="output classes (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="weights and random inputs (default 0)")
    p.add_argument("--weights", metavar="FILE", help="a local state dict instead of random weights")
    p.add_argument("--opset", type=int, default=13, help="ONNX opset, 11..17 (default 13)")
    p.add_argument("--list", action="store_true", help="list torchvision's classifiers and exit")
    return p


def main(argv=None):
    args = parser().parse_args(argv)

    try:
        import numpy as np
        import torch
        import torchvision
    except ImportError as e:
        print(f"export_torchvision: {e.name} is not installed; run scripts/install-deps.sh --torch "
              "(Debian's python3-torch and python3-torchvision)", file=sys.stderr)
        return 3
    try:
        if args.list:
            print("tested with pinfer:", " ".join(TESTED))
            print("all:", " ".join(classification_builders(torchvision)))
            return 0
        net, x_np, source, n_bn, logits, shape, calib_out = export(np, torch, torchvision, args)
    except UsageError as e:
        print(f"export_torchvision: {e}", file=sys.stderr)
        return 2
    params = sum(t.numel() for t in net.parameters())
    weights = f"state dict {args.weights}" if args.weights else \
        f"torchvision's random initialisation, seed {args.seed} (NOT pretrained)"
    print(f"{args.name}: input 1x{'x'.join(map(str, shape))}, {args.classes} classes, "
          f"{params} parameters")
    print(f"weights: {weights}" + (f"; BatchNorm statistics of {n_bn} layers re-estimated on "
                                   "the calibration inputs" if n_bn else ""))
    print(f"float logits of calibration input 0: top-1 class {int(logits.argmax())}")
    print(f"wrote {args.out} (opset {args.opset}) and {calib_out} ({x_np.shape[0]} inputs: "
          f"{source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
