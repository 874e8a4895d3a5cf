"""IAM documents of the compute plane: trust policies, IRSA, the cluster autoscaler, and what the
workload boundary and the CI role must allow so EKS roles can be created under them."""

from __future__ import annotations

from typing import Any

from infra.documents import KEY_USE_ACTIONS, Statement, allow, document

MANAGED = "arn:aws:iam::aws:policy"
CLUSTER_POLICIES = (f"{MANAGED}/AmazonEKSClusterPolicy",)
NODE_POLICIES = (f"{MANAGED}/AmazonEKSWorkerNodePolicy", f"{MANAGED}/AmazonEC2ContainerRegistryReadOnly",
                 f"{MANAGED}/AmazonEKS_CNI_Policy")
EBS_CSI_POLICY = f"{MANAGED}/service-role/AmazonEBSCSIDriverPolicy"
CLOUDWATCH_AGENT_POLICY = f"{MANAGED}/CloudWatchAgentServerPolicy"
AUTOSCALING_SERVICE_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def service_trust(service: str) -> dict[str, Any]:
    """Trust for EKS (cluster role) or EC2 (node role). No aws:SourceAccount condition: EC2 does not
    send it when an instance assumes its profile's role, so nodes would never join."""
    return document({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def irsa_trust(oidc_provider_arn: str, issuer_url: str, subjects: list[str]) -> dict[str, Any]:
    """Trust for pods: the cluster's OIDC provider, only for the named service accounts
    (`system:serviceaccount:<namespace>:<name>`) and the STS audience."""
    host = issuer_url.removeprefix("https://")
    return document({
        "Effect": "Allow",
        "Principal": {"Federated": oidc_provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": subjects}},
    })


def multi_irsa_trust(providers: list[tuple[str, str]], subjects: list[str]) -> dict[str, Any]:
    """IRSA trust for the same service accounts in several clusters (one statement per cluster)."""
    return document(*(irsa_trust(arn, issuer, subjects)["Statement"][0] for arn, issuer in providers))


def cluster_autoscaler_document(account: str, cluster_name: str) -> dict[str, Any]:
    """Cluster Autoscaler: read every group, but resize only the groups tagged as this cluster's."""
    return document(
        allow(["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
               "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
               "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
               "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements"],
              "*", sid="Discover"),
        allow(["eks:DescribeNodegroup"], f"arn:aws:eks:*:{account}:nodegroup/{cluster_name}/*", sid="OwnNodeGroups"),
        allow(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
              f"arn:aws:autoscaling:*:{account}:autoScalingGroup:*:autoScalingGroupName/*", sid="ResizeOwnGroups",
              StringEquals={f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}),
    )


NODE_UNSCOPED_ACTIONS = [
    "eks:DescribeCluster", "eks:DescribeNodegroup", "eks:ListNodegroups",
    "autoscaling:Describe*", "ec2:Describe*", "ec2:GetInstanceTypesFromInstanceRequirements",
    "ec2:*Addresses", "ec2:*NetworkInterface", "ec2:*NetworkInterfacePermission",
    "ec2:ModifyNetworkInterfaceAttribute", "ec2:*SecurityGroup", "ec2:*SecurityGroupIngress",
    "ec2:ModifyInstanceAttribute", "ec2:*Tags", "ec2:*Volume", "ec2:CreateSnapshot", "ec2:DeleteSnapshot",
    "ec2:EnableFastSnapshotRestores", "autoscaling:UpdateAutoScalingGroup",
    "elasticloadbalancing:DescribeTarget*",
]
"""What the workload boundary must also admit on any resource for the compute plane's roles (EKS cluster
role, node role, EBS CSI driver, cluster autoscaler, CloudWatch agent); the roles' own policies grant less.
Infix patterns keep the boundary under the managed-policy size limit (it holds every workload's ceiling).
Elastic Load Balancing only for the load balancer controller's TargetGroupBinding (`lb_controller.py`): it
describes target groups and their targets here, and changes targets only by `boundary_statements`."""


def boundary_statements(account: str) -> list[Statement]:
    """The compute plane's scoped entries of the workload boundary (the unscoped ones are above)."""
    return [
        allow(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
              f"arn:aws:autoscaling:*:{account}:autoScalingGroup:*:autoScalingGroupName/*", sid="ClusterAutoscaler"),
        allow(["kms:ListGrants", "kms:RevokeGrant"], f"arn:aws:kms:*:{account}:key/*",
              sid="EksSecretsKey"),
        allow(["elasticloadbalancing:*Targets", "elasticloadbalancing:ModifyTargetGroup*"],
              f"arn:aws:elasticloadbalancing:*:{account}:targetgroup/*", sid="LbTargets"),   # lb_controller.py
    ]


def node_volume_key_statements(account: str) -> list[Statement]:
    """Let EC2 Auto Scaling (managed node groups) use the key for nodes' encrypted root volumes, and
    create grants only for AWS resources (the volumes), as AWS's key policy for encrypted EBS asks."""
    principal = {"AWS": f"arn:aws:iam::{account}:{AUTOSCALING_SERVICE_ROLE}"}
    return [
        {"Sid": "AutoScalingNodeVolumes", "Effect": "Allow", "Principal": principal,
         "Action": KEY_USE_ACTIONS, "Resource": "*"},
        {"Sid": "AutoScalingNodeVolumeGrants", "Effect": "Allow", "Principal": principal,
         "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ]
