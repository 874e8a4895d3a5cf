"""Every pinned version of the compute plane, in one place: Kubernetes, EKS add-ons, node AMIs, images.

Nothing floats: an AMI or add-on release that AWS publishes tomorrow changes nothing until someone
bumps it here (and `mlp plan` plus the kubernetes-validate test run against the new pins).

To bump, for the cluster's Kubernetes version `K`:
- add-ons: `aws eks describe-addon-versions --kubernetes-version K --addon-name <name>
  --query 'addons[].addonVersions[0].addonVersion'`;
- AMI releases: `aws ssm get-parameter --name
  /aws/service/eks/optimized-ami/K/amazon-linux-2023/x86_64/<standard|nvidia>/recommended/release_version`;
- images: the upstream release pages named beside each image.
"""

from __future__ import annotations

from typing import Final

KUBERNETES_VERSION: Final = "1.32"
"""The EKS control-plane version of every cluster unless a stack's `compute.kubernetesVersion` says otherwise."""

SUPPORTED_KUBERNETES_VERSIONS: Final = ("1.31", "1.32", "1.33")
"""The window the platform supports (EKS standard support, and schemas kubernetes-validate bundles)."""

ADDON_VERSIONS: Final[dict[str, dict[str, str]]] = {
    "1.32": {
        "vpc-cni": "v1.19.3-eksbuild.1",
        "coredns": "v1.11.4-eksbuild.2",
        "kube-proxy": "v1.32.3-eksbuild.2",
        "aws-ebs-csi-driver": "v1.41.0-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.5-eksbuild.2",
        "amazon-cloudwatch-observability": "v3.6.0-eksbuild.2",
    },
    "1.31": {
        "vpc-cni": "v1.19.3-eksbuild.1",
        "coredns": "v1.11.4-eksbuild.2",
        "kube-proxy": "v1.31.7-eksbuild.2",
        "aws-ebs-csi-driver": "v1.41.0-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.5-eksbuild.2",
        "amazon-cloudwatch-observability": "v3.6.0-eksbuild.2",
    },
    "1.33": {
        "vpc-cni": "v1.19.5-eksbuild.1",
        "coredns": "v1.12.1-eksbuild.2",
        "kube-proxy": "v1.33.0-eksbuild.2",
        "aws-ebs-csi-driver": "v1.44.0-eksbuild.1",
        "eks-pod-identity-agent": "v1.3.7-eksbuild.2",
        "amazon-cloudwatch-observability": "v3.6.0-eksbuild.2",
    },
}
"""EKS managed add-on versions per Kubernetes version (`aws eks describe-addon-versions`)."""

AMI_TYPES: Final = {"cpu": "AL2023_x86_64_STANDARD", "cpu-arm": "AL2023_ARM_64_STANDARD",
                    "gpu": "AL2023_x86_64_NVIDIA"}
"""Managed node group AMI types: Amazon Linux 2023 (AL2 AMIs end with Kubernetes 1.32)."""

AMI_RELEASES: Final[dict[str, str]] = {
    "1.31": "1.31.7-20250419",
    "1.32": "1.32.3-20250419",
    "1.33": "1.33.0-20250519",
}
"""EKS-optimized AMI release (`<kubelet>-<build date>`) per Kubernetes version, for every AMI type."""

IMAGES: Final = {
    # github.com/NVIDIA/k8s-device-plugin releases
    "nvidia-device-plugin": "nvcr.io/nvidia/k8s-device-plugin:v0.17.1",
    # github.com/NVIDIA/dcgm-exporter releases (<DCGM version>-<exporter version>-<base>)
    "dcgm-exporter": "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04",
}
"""Container images of in-cluster software, by tag of an upstream release."""

CLUSTER_AUTOSCALER_IMAGES: Final[dict[str, str]] = {
    # github.com/kubernetes/autoscaler releases: the autoscaler's minor version follows Kubernetes'
    "1.31": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.31.1",
    "1.32": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.0",
    "1.33": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0",
}


def addon_versions(kubernetes_version: str) -> dict[str, str]:
    """The pinned add-ons of a Kubernetes version; a version without pins is an error, not a guess."""
    try:
        return ADDON_VERSIONS[kubernetes_version]
    except KeyError:
        raise ValueError(f"no add-on versions pinned for Kubernetes {kubernetes_version}; "
                         f"pinned: {', '.join(sorted(ADDON_VERSIONS))} (infra/versions.py)") from None


def ami_release(kubernetes_version: str) -> str:
    try:
        return AMI_RELEASES[kubernetes_version]
    except KeyError:
        raise ValueError(f"no AMI release pinned for Kubernetes {kubernetes_version}; "
                         f"pinned: {', '.join(sorted(AMI_RELEASES))} (infra/versions.py)") from None


def cluster_autoscaler_image(kubernetes_version: str) -> str:
    return CLUSTER_AUTOSCALER_IMAGES[kubernetes_version]

EKS_CHARTS_REPOSITORY: Final = "https://aws.github.io/eks-charts"
LOAD_BALANCER_CONTROLLER_CHART: Final = "3.5.0"
"""AWS Load Balancer Controller chart (app v3.5.0; github.com/kubernetes-sigs/aws-load-balancer-controller
releases, `helm search repo eks/aws-load-balancer-controller --versions`), used for TargetGroupBinding only."""
