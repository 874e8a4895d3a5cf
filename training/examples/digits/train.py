"""The training loop: data-parallel, checkpointed every epoch and on SIGTERM, resumable mid-epoch.

A resumed run is the same computation as an uninterrupted one: the checkpoint holds model,
optimizer, every rank's RNG state, the position inside the epoch and the epoch's running sums,
and the shuffling order is a function of (seed, epoch) only.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler, TensorDataset

from training import checkpoint, distributed, metrics, model_card, tracking
from training.contract import TrainingEnv
from training.distributed import DistributedContext
from training.errors import CheckpointError, HyperparameterError
from training.signals import StopSignal

from . import data
from .hyperparameters import Hyperparameters
from .metrics import NAMES
from .model import MLPClassifier, export_torchscript

log = logging.getLogger("training")

MODEL_FILE = "model.pt"
HANDLER_FILE = "code/inference.py"
HISTORY_FILE = "metrics.json"


@dataclass
class Progress:
    """Where training stands: ``epoch`` epochs done, ``step`` steps into the next one."""

    epoch: int = 0
    step: int = 0
    running: torch.Tensor = field(default_factory=lambda: torch.zeros(3, dtype=torch.float64))
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    status: str  # "completed" or "stopped"
    epoch: int
    step: int
    metrics: dict[str, float]


def _optimizer(hp: Hyperparameters, params: Any) -> torch.optim.Optimizer:
    if hp.optimizer == "sgd":
        return torch.optim.SGD(params, lr=hp.lr, momentum=hp.momentum, weight_decay=hp.weight_decay)
    return torch.optim.Adam(params, lr=hp.lr, weight_decay=hp.weight_decay)


class Trainer:
    """One process's share of the job."""

    def __init__(self, env: TrainingEnv, hp: Hyperparameters, ctx: DistributedContext,
                 dataset: data.Dataset, stop: StopSignal) -> None:
        self.env, self.hp, self.ctx, self.dataset, self.stop = env, hp, ctx, dataset, stop
        device = ctx.device
        self.train_x = torch.from_numpy(dataset.train_x).to(device)
        self.train_y = torch.from_numpy(dataset.train_y).to(device)
        self.validation_x = torch.from_numpy(dataset.validation_x).to(device)
        self.validation_y = torch.from_numpy(dataset.validation_y).to(device)
        torch.manual_seed(hp.seed)  # identical initial weights on every rank
        self.model = MLPClassifier(len(dataset.feature_names), hp.hidden_sizes, len(dataset.classes), hp.dropout)
        self.model.standardize.fit(torch.from_numpy(dataset.train_x))
        self.model.to(device)
        self.optimizer = _optimizer(hp, self.model.parameters())
        self.sampler: DistributedSampler[int] = DistributedSampler(  # it only needs the row count
            TensorDataset(torch.from_numpy(dataset.train_y)), num_replicas=ctx.world_size, rank=ctx.rank,
            shuffle=True, seed=hp.seed)
        torch.manual_seed(hp.seed + ctx.rank)  # different dropout masks per rank

    # -- checkpoints -------------------------------------------------------------------------
    def _save(self, progress: Progress) -> None:
        ranks = distributed.all_gather(self.ctx, {"rng": checkpoint.rng_state(),
                                                  "running": progress.running.cpu().tolist()})
        if not self.ctx.is_main:
            return
        checkpoint.save(self.env.checkpoint_dir, {
            "epoch": progress.epoch, "step": progress.step, "ranks": ranks, "history": progress.history,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "hyperparameters": self.hp.resume_key(), "data_sha256": self.dataset.sha256,
            "classes": list(self.dataset.classes),
        })

    def _resume(self) -> Progress:
        state = checkpoint.load(self.env.checkpoint_dir) if self.ctx.is_main else None
        state = distributed.broadcast(self.ctx, state)
        if state is None:
            return Progress()
        where = checkpoint.path(self.env.checkpoint_dir)
        if state["hyperparameters"] != self.hp.resume_key():
            changed = sorted(k for k, v in self.hp.resume_key().items() if state["hyperparameters"].get(k) != v)
            raise CheckpointError(f"{where} was written with different hyperparameters ({', '.join(changed)}); "
                                  "only 'epochs' may change on resume. Delete it or use a fresh checkpoint S3 prefix.")
        if state["data_sha256"] != self.dataset.sha256 or state["classes"] != list(self.dataset.classes):
            raise CheckpointError(f"{where} was written for different channel data (sha256 {state['data_sha256']}, "
                                  f"now {self.dataset.sha256}). Delete it or use a fresh checkpoint S3 prefix.")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        progress = Progress(epoch=state["epoch"], history=list(state["history"]))
        ranks = state["ranks"]
        if len(ranks) == self.ctx.world_size:
            checkpoint.restore_rng(ranks[self.ctx.rank]["rng"])
            progress.step = state["step"]
            progress.running = torch.tensor(ranks[self.ctx.rank]["running"], dtype=torch.float64)
        elif state["step"]:
            log.warning("checkpoint was written by %d processes, this job has %d: epoch %d restarts from its "
                        "first step", len(ranks), self.ctx.world_size, state["epoch"] + 1)
        log.info("resuming from checkpoint %s: epochs_done=%d step=%d", where, progress.epoch, progress.step)
        return progress

    # -- one epoch -----------------------------------------------------------------------------
    def _run_epoch(self, epoch: int, progress: Progress, network: torch.nn.Module) -> bool:
        """Train from ``progress.step`` to the end of ``epoch``; False when stopped part-way."""
        self.sampler.set_epoch(epoch)
        batches = torch.tensor(list(self.sampler), dtype=torch.long).split(self.hp.batch_size)
        running = progress.running.to(self.ctx.device)
        network.train()
        for step in range(progress.step, len(batches)):
            if distributed.any_rank(self.ctx, self.stop.requested):
                progress.step, progress.running = step, running.cpu()
                return False
            index = batches[step].to(self.ctx.device)
            x, y = self.train_x[index], self.train_y[index]
            logits = network(x)
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            with torch.no_grad():
                correct = (logits.argmax(dim=1) == y).sum()
                running += torch.stack([loss.detach().double() * len(y), correct.double(),
                                        torch.tensor(float(len(y)), dtype=torch.float64, device=running.device)])
        progress.step, progress.running = len(batches), running.cpu()
        log.info("rank=%d world_size=%d epoch=%d steps=%d samples=%d", self.ctx.rank, self.ctx.world_size,
                 epoch, len(batches), len(self.sampler))
        return True

    @torch.no_grad()
    def _evaluate(self) -> tuple[float, float]:
        """Validation loss and accuracy over the whole channel, each rank scoring a disjoint slice."""
        self.model.eval()
        x = self.validation_x[self.ctx.rank::self.ctx.world_size]
        y = self.validation_y[self.ctx.rank::self.ctx.world_size]
        logits = self.model(x)
        sums = torch.stack([F.cross_entropy(logits, y, reduction="sum").double(),
                            (logits.argmax(dim=1) == y).sum().double(),
                            torch.tensor(float(len(y)), dtype=torch.float64, device=logits.device)])
        loss, correct, count = distributed.all_sum(self.ctx, sums).tolist()
        return loss / count, correct / count

    def _epoch_metrics(self, epoch: int, running: torch.Tensor) -> dict[str, float]:
        loss, correct, count = distributed.all_sum(self.ctx, running.to(self.ctx.device)).tolist()
        if not math.isfinite(loss):
            raise HyperparameterError(f"training diverged: train_loss is {loss / count} in epoch {epoch}; "
                                      f"try a lower lr (now {self.hp.lr}).")
        validation_loss, validation_accuracy = self._evaluate()
        return {"train_loss": loss / count, "train_accuracy": correct / count,
                "validation_loss": validation_loss, "validation_accuracy": validation_accuracy}

    # -- the job -----------------------------------------------------------------------------
    def fit(self) -> Outcome:
        progress = self._resume()
        network: torch.nn.Module = self.model
        if self.ctx.enabled:
            device_ids = [self.ctx.device.index] if self.ctx.device.type == "cuda" else None
            network = DistributedDataParallel(self.model, device_ids=device_ids)
        for epoch in range(progress.epoch + 1, self.hp.epochs + 1):
            if not self._run_epoch(epoch, progress, network):
                if self.stop.requested:
                    log.warning("received %s: checkpointing and stopping", self.stop.name)
                self._save(progress)
                log.warning("stopped: checkpoint saved at epochs_done=%d step=%d", progress.epoch, progress.step)
                return Outcome("stopped", progress.epoch, progress.step, {})
            epoch_metrics = self._epoch_metrics(epoch, progress.running)
            if self.ctx.is_main:
                log.info(metrics.format_line(epoch, epoch_metrics, NAMES))
                tracking.log_metrics(epoch_metrics, step=epoch)
            progress = Progress(epoch=epoch, history=[*progress.history, epoch_metrics])
            self._save(progress)
        final = progress.history[-1] if progress.history else {}
        if self.ctx.is_main:
            self._export(progress.history)
        return Outcome("completed", progress.epoch, 0, final)

    def _export(self, history: list[dict[str, float]]) -> None:
        """Write model.pt, code/inference.py and model_card.json to the model dir; history to output/data."""
        model_dir, ds = self.env.model_dir, self.dataset
        export_torchscript(self.model, model_dir / MODEL_FILE, {
            "classes": list(ds.classes), "feature_names": list(ds.feature_names), "label_name": ds.label_name,
        })
        handler = model_dir / HANDLER_FILE
        handler.parent.mkdir(parents=True, exist_ok=True)
        handler.write_text(Path(__file__).with_name("inference.py").read_text(encoding="utf-8"), encoding="utf-8")
        card = model_card.build(
            job_name=self.env.job_name,
            model={"task": "multiclass-classification", "architecture": "mlp", "artifact": MODEL_FILE,
                   "framework": "torchscript", "handler": HANDLER_FILE},
            hyperparameters=self.hp.model_dump(mode="json"),
            metrics=dict(history[-1]),
            history=[dict(h) for h in history],
            data={"sha256": ds.sha256, "files": [asdict(f) for f in ds.files],
                  "rows": {"train": len(ds.train_y), "validation": len(ds.validation_y)}},
            schema={"features": [{"name": name, "dtype": "float32"} for name in ds.feature_names],
                    "label": {"name": ds.label_name, "classes": list(ds.classes)},
                    "output": "probabilities over label.classes, in that order"},
            training={"world_size": self.ctx.world_size, "device": str(self.ctx.device)},
        )
        model_card.write(model_dir, card)
        tracking.log_model_card(card)
        self.env.output_data_dir.mkdir(parents=True, exist_ok=True)
        (self.env.output_data_dir / HISTORY_FILE).write_text(json.dumps(history, indent=2) + "\n", encoding="utf-8")
        log.info("model written to %s (%s, %s, %s)", model_dir, MODEL_FILE, HANDLER_FILE, model_card.FILE_NAME)


def run(env: TrainingEnv, hp: Hyperparameters, stop: StopSignal) -> Outcome:
    """Check the topology and the data, then train."""
    ctx = distributed.resolve(env)
    dataset = data.load(env.channels, hp.label_column, ctx.world_size, hp.feature_columns)
    log.info("rank=%d world_size=%d launcher=%s device=%s train_rows=%d validation_rows=%d features=%d "
             "classes=%d data_sha256=%s", ctx.rank, ctx.world_size, ctx.launcher, ctx.device,
             len(dataset.train_y), len(dataset.validation_y), len(dataset.feature_names),
             len(dataset.classes), dataset.sha256)
    if ctx.is_main:
        log.info("hyperparameters %s", json.dumps(hp.model_dump(mode="json"), sort_keys=True))
        tracking.log_params(hp.model_dump(mode="json"))
    if ctx.device.type == "cuda" and ctx.launcher != "torchrun" and torch.cuda.device_count() > 1:
        log.warning("one process per host uses 1 of %d GPUs; launch with `torchrun --nproc_per_node %d -m training` "
                    "to use them all", torch.cuda.device_count(), torch.cuda.device_count())
    with distributed.session(ctx, env.network_interface_name):
        return Trainer(env, hp, ctx, dataset, stop).fit()
