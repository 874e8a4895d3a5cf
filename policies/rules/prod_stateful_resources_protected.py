"""Stateful resources in prod can't be deleted by a `pulumi up` or `destroy`."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.rule import Rule
from policies.support import resource_env

PROD = "prod"
STATEFUL_TYPES = frozenset({
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:kms/key:Key",
    "aws:ecr/repository:Repository",
    "aws:sagemaker/featureGroup:FeatureGroup",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    "aws:sagemaker/domain:Domain",
    "aws:dynamodb/table:Table",
    "aws:efs/fileSystem:FileSystem",
    "aws:fsx/lustreFileSystem:LustreFileSystem",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:ebs/volume:Volume",
    "aws:secretsmanager/secret:Secret",
    "aws:backup/vault:Vault",
    "aws:opensearch/domain:Domain",
    "aws:elasticache/replicationGroup:ReplicationGroup",
})
"""Resources whose deletion loses data, keys or history (a maintained list; tested to exist)."""


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Stateful resources whose effective env tag is prod have opts.protect=True."""
    if resource_env(args) != PROD:
        return
    if not getattr(args.opts, "protect", False):
        report_violation(f"{args.resource_type} '{args.name}' holds state in prod but is not protected; "
                         "required: ResourceOptions(protect=True) on stateful resources tagged env=prod", None)


RULE = Rule(
    id="prod-stateful-resources-protected",
    description="Stateful resources in prod are protected against deletion (protect=True).",
    severity="high",
    control="AWS FSBP RDS.8, DynamoDB.6 (deletion protection)",
    kind="resource",
    validate=validate,
    resource_types=STATEFUL_TYPES,
    remediation="Pass ResourceOptions(protect=True) (the components do this when env is prod).",
)
