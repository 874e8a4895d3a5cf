"""Where models train and serve: one interface (``base.Target``), three implementations."""

from __future__ import annotations

from platform_lib.targets.base import Target, TargetError

NAMES = ("local", "sagemaker", "kubernetes")


def get(name: str, **options) -> Target:
    """The target called ``name`` (``local``, ``sagemaker`` or ``kubernetes``)."""
    if name == "local":
        from platform_lib.targets.local import LocalTarget

        return LocalTarget(**options)
    if name == "sagemaker":
        from platform_lib.targets.sagemaker import SageMakerTarget

        return SageMakerTarget(**options)
    if name == "kubernetes":
        from platform_lib.targets.kubernetes import KubernetesTarget

        return KubernetesTarget(**options)
    raise TargetError(f"unknown target {name!r}; allowed: {', '.join(NAMES)}")


__all__ = ["NAMES", "Target", "TargetError", "get"]
