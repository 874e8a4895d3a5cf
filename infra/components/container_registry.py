"""The platform's container registry: ECR repositories for the shared training and serving images in
every region of the environment, filled by registry replication from the primary region."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import documents
from infra.naming import SHARED_IMAGES, Names

PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
RELEASE_TAG_PREFIX = "v"   # release images are tagged v1.2.3; everything else is a build


@dataclass(frozen=True)
class ContainerRegistryArgs:
    names: Names
    primary_region: str
    regions: Sequence[str]                       # the primary first; every other region is a replica
    repositories: Sequence[str]                  # image names: ml-platform/<name>
    untagged_expiry_days: int
    keep_releases: int
    key_arns: Mapping[str, pulumi.Input[str]]    # region -> KMS key of the images
    protect: bool


def lifecycle_policy(untagged_expiry_days: int, keep_releases: int) -> dict[str, Any]:
    """Untagged images expire after N days; only the newest N release images are kept."""
    return {"rules": [
        {"rulePriority": 1, "description": f"expire untagged images after {untagged_expiry_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_expiry_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"keep the last {keep_releases} releases",
         "selection": {"tagStatus": "tagged", "tagPrefixList": [RELEASE_TAG_PREFIX], "countType": "imageCountMoreThan",
                       "countNumber": keep_releases},
         "action": {"type": "expire"}},
    ]}


def repository_policy(names: Names) -> dict[str, Any]:
    """Pulls by the environment's workload roles (team execution and workload roles) and by SageMaker
    on behalf of this account; pushes stay with the CI role's identity policy."""
    return documents.document(
        {"Sid": "EnvironmentRolesPull", "Effect": "Allow", "Principal": {"AWS": documents.root(names.account_id)},
         "Action": PULL_ACTIONS,
         "Condition": {"ArnLike": {"aws:PrincipalArn": names.environment_role_arns()}}},
        {"Sid": "SageMakerPull", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
         "Action": PULL_ACTIONS, "Condition": {"StringEquals": {"aws:SourceAccount": names.account_id}}},
    )


class ContainerRegistry(pulumi.ComponentResource):
    """Per region and image: KMS, immutable tags, scan on push, lifecycle, pull policy; replication
    from the primary region to every other one (into the same, identically guarded repositories)."""

    def __init__(self, name: str, args: ContainerRegistryArgs, providers: Mapping[str, aws.Provider],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("ml-platform:registry:ContainerRegistry", name, None, opts)
        names = args.names
        self.repositories: dict[tuple[str, str], aws.ecr.Repository] = {}
        lifecycle = json.dumps(lifecycle_policy(args.untagged_expiry_days, args.keep_releases))
        access = json.dumps(repository_policy(names))
        for region in args.regions:
            child = pulumi.ResourceOptions(parent=self, provider=providers[region])
            for image in args.repositories:
                logical = names.resource(f"image-{image}", None if region == args.primary_region else region)
                repository = aws.ecr.Repository(
                    logical, name=f"{SHARED_IMAGES}/{image}", image_tag_mutability="IMMUTABLE",
                    image_scanning_configuration={"scan_on_push": True},
                    encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.key_arns[region]}],
                    force_delete=False,
                    opts=pulumi.ResourceOptions(parent=self, provider=providers[region], protect=args.protect,
                                                retain_on_delete=True),
                )
                aws.ecr.LifecyclePolicy(f"{logical}-lifecycle", repository=repository.name, policy=lifecycle,
                                        opts=child)
                aws.ecr.RepositoryPolicy(f"{logical}-policy", repository=repository.name, policy=access, opts=child)
                self.repositories[(image, region)] = repository
        replicas = [r for r in args.regions if r != args.primary_region]
        if replicas:
            aws.ecr.ReplicationConfiguration(
                names.resource("image-replication"),
                replication_configuration={"rules": [{
                    "destinations": [{"region": region, "registry_id": names.account_id} for region in replicas],
                    "repository_filters": [{"filter": f"{SHARED_IMAGES}/", "filter_type": "PREFIX_MATCH"}],
                }]},
                # replication creates missing repositories with default settings: ours must exist first
                opts=pulumi.ResourceOptions(parent=self, provider=providers[args.primary_region],
                                            depends_on=list(self.repositories.values())),
            )
        self.register_outputs({"urls": self.urls})

    @property
    def urls(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        """`{image: {region: repository URI}}`."""
        found: dict[str, dict[str, pulumi.Output[str]]] = {}
        for (image, region), repository in self.repositories.items():
            found.setdefault(image, {})[region] = repository.repository_url
        return found
