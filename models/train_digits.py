#!/usr/bin/python3
"""Train pinfer's shipped model: a small CNN on scikit-learn's handwritten digits (8x8, 10 classes).

Uses only Debian packages (python3-sklearn, python3-torch, python3-numpy, python3-onnx):
    /usr/bin/python3 models/train_digits.py            # writes the files below into models/

Outputs (committed; re-training is optional, the tests use these files):
    digits.onnx               the trained network, ONNX opset 13, input "input" 1x1x8x8 float32
    digits_test_images.npy    held-out test images, float32 N x 1 x 8 x 8, pixel / 16 in [0, 1]
    digits_test_labels.npy    their labels, int64 N
    digits.calib.npy          64 training images (same format) used to choose (l, f)

The network exercises every stage kind of pinfer's lowered form (docs/MODELS.md): conv+BN+ReLU,
a residual add, ReLU followed by max pool, an average pool folded into the next fully connected
layer, an FC+ReLU stage and the final FC (logits).
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.avg = nn.AvgPool2d(2)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        a = F.relu(self.bn1(self.conv1(x)))            # 16x8x8
        b = F.relu(self.bn2(self.conv2(a)) + a)        # residual, 16x8x8
        c = self.pool(F.relu(self.bn3(self.conv3(b))))  # 32x4x4
        d = torch.flatten(self.avg(c), 1)              # 128, folded into fc1 by pinfer
        return self.fc2(F.relu(self.fc1(d)))


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0)

    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for epoch in range(40):
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    acc = float((pred == y_test).mean())
    print(f"held-out accuracy {acc:.4f} on {len(y_test)} images")

    dummy = torch.from_numpy(x_test[:1])
    # Keep BatchNormalization nodes in the file (no eval-mode fusion): pinfer folds them itself.
    torch.onnx.export(model, dummy, os.path.join(HERE, "digits.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    np.save(os.path.join(HERE, "digits_test_images.npy"), x_test)
    np.save(os.path.join(HERE, "digits_test_labels.npy"), y_test)
    np.save(os.path.join(HERE, "digits.calib.npy"), x_train[:64])


if __name__ == "__main__":
    main()
