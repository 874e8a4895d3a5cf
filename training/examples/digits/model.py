"""The network: a standardizing MLP classifier, and its TorchScript export for serving."""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

METADATA_FILE = "metadata.json"  # stored inside model.pt (TorchScript extra file)


class Standardize(nn.Module):
    """``(x - mean) / std`` with statistics fitted on the training channel, kept as buffers."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        std = x.std(dim=0, unbiased=False)
        self.mean.copy_(x.mean(dim=0))
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))  # constant columns pass through

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class MLPClassifier(nn.Module):
    """Standardize, then ``Linear -> ReLU -> Dropout`` per hidden layer, then class logits."""

    def __init__(self, n_features: int, hidden_sizes: Sequence[int], n_classes: int, dropout: float) -> None:
        super().__init__()
        self.standardize = Standardize(n_features)
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.standardize(x))


class Probabilities(nn.Module):
    """What gets served: class probabilities (softmax over the classifier's logits)."""

    def __init__(self, classifier: MLPClassifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.classifier(x), dim=1)


def export_torchscript(classifier: MLPClassifier, path: Path, metadata: dict[str, Any]) -> None:
    """Script the probability model (a CPU, eval-mode copy) and save it with ``metadata`` embedded."""
    served = Probabilities(copy.deepcopy(classifier).cpu()).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # TorchScript is deprecated upstream but is what the servers load
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(served)
        torch.jit.save(scripted, str(path), _extra_files={METADATA_FILE: json.dumps(metadata, sort_keys=True)})
