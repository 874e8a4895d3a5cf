"""Data-parallel topology: who is rank 0, how to rendezvous, and the few collectives the loop needs.

Three ways to run, picked from the environment:

* ``torchrun`` (``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT`` set): use them.
* several hosts in ``resourceconfig.json``: one process per host, rank = index of ``current_host``
  in the (naturally) sorted hosts, master = first host; ``MASTER_ADDR``/``MASTER_PORT`` override.
* otherwise: a single process, no process group.

Backend ``nccl`` on GPUs, ``gloo`` on CPUs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from training.contract import TrainingEnv, int_env
from training.errors import ConfigError, TrainingError

DEFAULT_MASTER_PORT = 29500
DEFAULT_TIMEOUT = timedelta(minutes=30)


class DistributedError(TrainingError):
    kind = "Distributed training could not start"


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    init_method: str | None = None
    launcher: str = "single"

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def backend(self) -> str:
        return "nccl" if self.device.type == "cuda" else "gloo"


def _int(environ: Mapping[str, str], name: str, default: int | None = None) -> int:
    value = int_env(environ, name)
    if value is not None:
        return value
    if default is None:
        raise ConfigError(f"environment variable {name} is required for distributed training.")
    return default


def resolve(env: TrainingEnv, environ: Mapping[str, str] | None = None) -> DistributedContext:
    """Work out rank, world size and device without touching the network."""
    environ = os.environ if environ is None else environ
    num_gpus = env.num_gpus if env.num_gpus is not None else torch.cuda.device_count()
    use_cuda = num_gpus > 0 and torch.cuda.is_available()
    if environ.get("WORLD_SIZE") and environ.get("RANK"):
        rank, world, local = _int(environ, "RANK"), _int(environ, "WORLD_SIZE"), _int(environ, "LOCAL_RANK", 0)
        init, launcher = "env://", "torchrun"
    elif len(env.hosts) > 1:
        rank, world, local = env.hosts.index(env.current_host), len(env.hosts), 0
        addr = environ.get("MASTER_ADDR") or env.hosts[0]
        port = _int(environ, "MASTER_PORT", DEFAULT_MASTER_PORT)
        init, launcher = f"tcp://{addr}:{port}", "resourceconfig"
    else:
        return DistributedContext(device=torch.device("cuda", 0) if use_cuda else torch.device("cpu"))
    if not 0 <= rank < world:
        raise ConfigError(f"rank {rank} is outside world size {world}.")
    device = torch.device("cuda", local) if use_cuda else torch.device("cpu")
    return DistributedContext(rank, world, local, device, init, launcher)


@contextmanager
def session(ctx: DistributedContext, network_interface: str | None = None) -> Iterator[DistributedContext]:
    """Join the process group for the duration of the block (a no-op for a single process)."""
    if ctx.device.type == "cuda":
        torch.cuda.set_device(ctx.device)
    if not ctx.enabled:
        yield ctx
        return
    if network_interface:  # SageMaker names the interface hosts talk over (eth0) in resourceconfig.json
        os.environ.setdefault("GLOO_SOCKET_IFNAME", network_interface)
        os.environ.setdefault("NCCL_SOCKET_IFNAME", network_interface)
    try:
        dist.init_process_group(ctx.backend, init_method=ctx.init_method, rank=ctx.rank,
                                world_size=ctx.world_size, timeout=DEFAULT_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - rendezvous errors come in many types
        raise DistributedError(f"rank {ctx.rank} of {ctx.world_size} could not join {ctx.init_method} "
                               f"with {ctx.backend} ({type(exc).__name__}: {exc}).") from exc
    try:
        yield ctx
    finally:
        dist.destroy_process_group()


def all_sum(ctx: DistributedContext, tensor: torch.Tensor) -> torch.Tensor:
    """Element-wise sum over ranks (returns a new tensor)."""
    total = tensor.clone()
    if ctx.enabled:
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total


def any_rank(ctx: DistributedContext, flag: bool) -> bool:
    """True on every rank when ``flag`` is true on any rank."""
    if not ctx.enabled:
        return flag
    return bool(all_sum(ctx, torch.tensor([int(flag)], device=ctx.device)).item())


def all_gather(ctx: DistributedContext, obj: Any) -> list[Any]:
    """Every rank's ``obj``, in rank order."""
    if not ctx.enabled:
        return [obj]
    gathered: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def broadcast(ctx: DistributedContext, obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not ctx.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
