"""Names, name patterns and tags come from here and nowhere else: `<scope>-<env>-<purpose>`.

Components receive a `Names` (in their args) instead of the stack config, so every physical name, ARN
and IAM pattern derived from names is built by one object whose format the patterns are tested against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from platform_lib.config.schema import ENVIRONMENTS, PlatformConfig, TeamConfig

MANAGED_BY = "pulumi/ml-platform"
PURPOSE_TAG = "ml-platform/purpose"   # what a resource is for, when a policy must know (e.g. access-logs)
PLATFORM_SCOPE = "platform"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
SHARED_IMAGES = "ml-platform"         # ECR namespace of the platform's own images (training, serving)


@dataclass(frozen=True)
class Names:
    """Everything named after one stack's scope (team or platform), environment and account."""

    scope: str
    environment: str
    account_id: str

    def __post_init__(self) -> None:
        # `*-<env>-*` patterns must not match another environment's names: a scope such as
        # `ml-prod-tools` would put its dev resources under prod's patterns.
        clash = [env for env in ENVIRONMENTS if env in self.scope.split("-")]
        if clash:
            raise ValueError(f"scope {self.scope!r} contains the environment name {clash[0]!r} as a word; "
                             f"IAM patterns of environments could not tell its resources apart")

    # -- physical names ------------------------------------------------------------------------
    def resource(self, purpose: str, region: str | None = None) -> str:
        """`fraud-prod-models`, or `fraud-prod-models-use1` for a regional copy."""
        parts = [self.scope, self.environment, purpose] + ([region_code(region)] if region else [])
        return "-".join(parts)

    def bucket(self, purpose: str, region: str) -> str:
        """Globally unique S3 name: `<scope>-<env>-<purpose>-<account>-<region code>` (at most 63 chars)."""
        name = f"{self.resource(purpose)}-{self.account_id}-{region_code(region)}"
        if len(name) > 63:
            raise ValueError(f"bucket name {name!r} is longer than S3's 63 characters; shorten the team name")
        return name

    def glue(self, purpose: str) -> str:
        """Glue and Athena names (databases, tables): `fraud_prod_lake`, lowercase with underscores."""
        return self.resource(purpose).replace("-", "_")

    def alias(self, domain: str) -> str:
        return f"alias/{self.resource(domain)}"

    def flow_log_group(self, region: str) -> str:
        """The CloudWatch log group of a VPC's flow logs."""
        return f"/ml-platform/{self.environment}/vpc-flow-logs/{region}"

    def metric_namespace_pattern(self) -> str:
        """CloudWatch namespaces a team's jobs may publish to (`ml-platform/<team>...`)."""
        return f"ml-platform/{self.scope}*"

    # -- ARNs -----------------------------------------------------------------------------------
    def role_arn(self, purpose: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.resource(purpose)}"

    def policy_arn(self, purpose: str) -> str:
        return f"arn:aws:iam::{self.account_id}:policy/{self.resource(purpose)}"

    def oidc_provider_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:oidc-provider/{GITHUB_OIDC_HOST}"

    def log_group_arn(self, group: str, region: str = "*") -> str:
        return f"arn:aws:logs:{region}:{self.account_id}:log-group:{group}"

    # -- IAM patterns ---------------------------------------------------------------------------
    def environment_glob(self) -> str:
        """IAM glob of every name of this environment, whatever its scope: `*-<env>-*`."""
        return f"*-{self.environment}-*"

    def scope_glob(self) -> str:
        """IAM glob of every name of this scope and environment: `<scope>-<env>-*`."""
        return f"{self.scope}-{self.environment}-*"

    def environment_bucket_arns(self) -> list[str]:
        glob = self.environment_glob()
        return [f"arn:aws:s3:::{glob}", f"arn:aws:s3:::{glob}/*"]

    def environment_glue_arns(self) -> list[str]:
        """The Glue catalog, and the databases and tables of this environment (`*_<env>_*`)."""
        glob = f"*_{self.environment}_*"
        return [f"arn:aws:glue:*:{self.account_id}:{kind}" for kind in
                ("catalog", f"database/{glob}", f"table/{glob}/*")]

    def environment_role_arns(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.environment_glob()}"

    def environment_policy_arns(self) -> str:
        return f"arn:aws:iam::{self.account_id}:policy/{self.environment_glob()}"

    def flow_log_groups_arn(self) -> str:
        """Every flow-log group of this environment, in every region."""
        return self.log_group_arn(self.flow_log_group("*"))

    def sagemaker_resources_arn(self) -> str:
        """SageMaker resources (jobs, models, endpoints ...) named `<scope>-<env>-*`."""
        return f"arn:aws:sagemaker:*:{self.account_id}:*/{self.scope_glob()}"

    def image_repositories_arns(self) -> list[str]:
        """ECR repositories the scope may pull from: its own namespace and the platform's images."""
        return [f"arn:aws:ecr:*:{self.account_id}:repository/{namespace}/*"
                for namespace in (self.scope, SHARED_IMAGES)]


def names(config: PlatformConfig | TeamConfig) -> Names:
    return Names(scope(config), config.environment, config.account_id)


def scope(config: PlatformConfig | TeamConfig) -> str:
    """The owner of a stack's resources: the team, or 'platform' for shared stacks."""
    return config.team if isinstance(config, TeamConfig) else PLATFORM_SCOPE


def resource_name(config: PlatformConfig | TeamConfig, purpose: str, region: str | None = None) -> str:
    """`fraud-prod-models`, or `fraud-prod-models-use1` for a regional copy."""
    return names(config).resource(purpose, region)


def bucket_name(config: PlatformConfig | TeamConfig, purpose: str, region: str) -> str:
    """Globally unique S3 name: `<scope>-<env>-<purpose>-<account>-<region code>` (at most 63 chars)."""
    return names(config).bucket(purpose, region)


def region_code(region: str) -> str:
    """`eu-west-1` -> `euw1`, `ap-southeast-2` -> `apse2`: short and unique per region."""
    area, *words, number = region.split("-")
    initials = "".join(_initials(w) for w in words)
    return f"{area}{initials}{number}"


def _initials(word: str) -> str:
    # "southeast" -> "se", "northeast" -> "ne", "central" -> "c"
    match = re.fullmatch(r"(north|south)(east|west)", word)
    return match.group(1)[0] + match.group(2)[0] if match else word[0]


def tags(config: PlatformConfig | TeamConfig, stack: str) -> dict[str, str]:
    """Tags every AWS resource carries, through the providers' default_tags."""
    return {
        "team": scope(config),
        "env": config.environment,
        "cost-center": config.cost_center,
        "managed-by": MANAGED_BY,
        "ml-platform/stack": stack,
    }
