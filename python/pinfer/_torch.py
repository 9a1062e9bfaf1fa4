"""pinfer.from_torch: a PyTorch module exported to ONNX and loaded as a pinfer.Model."""

import os

from ._pinfer import Model


def from_torch(module, example_input, path, calibration=None, **model_options):
    """Exports `module` (a torch.nn.Module) to the ONNX file `path` and returns it as a Model.

    example_input: a tensor of the model's input shape (e.g. 1 x C x H x W) used for tracing.
    calibration: .npy inputs the fixed-point ring is chosen on (see pinfer.Model); without it
    pinfer looks for PATH-without-.onnx + ".calib.npy", else uses random inputs.
    torch is imported here only, so the rest of pinfer does not need it.
    """
    import torch  # noqa: PLC0415  (optional dependency)

    path = os.fspath(path)
    was_training = module.training
    module.eval()
    try:
        # Opset 13 and no constant folding, as models/train_digits.py exports the shipped model:
        # BatchNorm stays a node pinfer folds itself (docs/MODELS.md).
        torch.onnx.export(
            module,
            example_input,
            path,
            opset_version=13,
            input_names=["input"],
            output_names=["logits"],
            training=torch.onnx.TrainingMode.PRESERVE,
            do_constant_folding=False,
        )
    finally:
        module.train(was_training)
    return Model(path, calibration, **model_options)
