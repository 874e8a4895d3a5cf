"""An embedded AWS for demos and tests: moto in server mode on 127.0.0.1, and a team's resources in it.

``provision`` does what ``pulumi up`` of a team stack does for the delivery plane, from that stack's
*planned* outputs: the buckets, KMS keys, execution role and model package groups those outputs name.
Like a real apply, the provider picks the key ids, so it returns the outputs as applied (moto's key ARNs
in place of the plan's mock ones), to be written where commands read outputs from (``write_outputs``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from platform_lib.aws import Aws
from platform_lib.contract import TeamOutputs
from platform_lib.outputs import package_group

# Credentials moto accepts; never real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing"}
KEY_DOMAIN_OF_TIER = {"models": "models"}   # every other data-lake tier is encrypted with the data key
SAGEMAKER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


class Moto:
    """moto's threaded server on 127.0.0.1 and a free port; ``stop`` also closes the listening socket."""

    def __init__(self, account_id: str | None = None):
        from moto.server import ThreadedMotoServer

        self.account_id = account_id
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> Moto:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)   # no access log line per request
        if self.account_id:
            os.environ["MOTO_ACCOUNT_ID"] = self.account_id   # read per request by moto in this process
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()
        if self._server._server is not None:
            self._server._server.server_close()

    def reset(self) -> None:
        """Forget every resource (moto's own reset API)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10)


@contextmanager
def running(account_id: str | None = None) -> Iterator[Moto]:
    """moto started, with this process's AWS environment pointing at it, all undone on exit."""
    saved = {k: os.environ.get(k) for k in (*FAKE_CREDENTIALS, "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID")}
    moto = Moto(account_id).start()
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = moto.url
    try:
        yield moto
    finally:
        moto.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def provision(aws: Aws, team: TeamOutputs, models: Iterable[str] = ()) -> TeamOutputs:
    """Create what ``team``'s outputs name; return the outputs with the key ARNs the provider chose."""
    key_arns: dict[str, dict[str, str]] = {}
    for domain, by_region in team.key_arns.items():
        for region in by_region:
            kms = aws.client("kms", region)
            key = kms.create_key(Description=f"{domain} of team {team.team} ({team.environment})",
                                 Tags=[{"TagKey": "team", "TagValue": team.team}])["KeyMetadata"]
            kms.create_alias(AliasName=f"alias/{team.team}-{team.environment}-{domain}", TargetKeyId=key["KeyId"])
            key_arns.setdefault(domain, {})[region] = key["Arn"]

    def bucket(name: str, region: str, key_arn: str | None) -> None:
        s3 = aws.client("s3", region)
        # S3 refuses us-east-1 as a location constraint: buckets there are created without one.
        s3.create_bucket(Bucket=name, **({} if region == "us-east-1" else
                                         {"CreateBucketConfiguration": {"LocationConstraint": region}}))
        rule = ({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn} if key_arn else {"SSEAlgorithm": "AES256"})
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bool(key_arn)}]})
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    primary = team.primary_region
    for tier, name in team.buckets.items():
        if tier == "models" and team.models_buckets.get(primary) == name:
            continue  # created below with the other serving regions
        bucket(name, primary, key_arns[KEY_DOMAIN_OF_TIER.get(tier, "data")][primary])
    for region, name in team.models_buckets.items():
        bucket(name, region, key_arns["models"][region])
    for region, name in team.log_buckets.items():
        bucket(name, region, None)   # S3 server access logs only support SSE-S3

    role_name = team.execution_role_arn.rsplit("/", 1)[-1]
    aws.client("iam").create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST))
    sagemaker = aws.client("sagemaker", primary)
    for model in models:
        sagemaker.create_model_package_group(ModelPackageGroupName=package_group(team, model),
                                             ModelPackageGroupDescription=f"model {model} of team {team.team}")
    applied = team.model_copy(update={"key_arns": key_arns})
    return applied


def write_outputs(stack: str, outputs: TeamOutputs, path: Path, plan: Path | None = None) -> Path:
    """Write applied outputs in the offline plan's format, so ``--plan PATH`` reads them like any plan.

    The other stacks of ``plan`` (e.g. the platform stack) are carried over with their planned outputs.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    others = {}
    if plan is not None:
        others = {name: {"stack": name, "source": entry.get("source"), "kind": entry.get("kind"),
                         "environment": entry.get("environment"), "exitCode": entry.get("exitCode"),
                         "error": entry.get("error"), "outputs": entry.get("outputs")}
                  for name, entry in json.loads(plan.read_text())["stacks"].items() if name != stack}
    document = {"formatVersion": 1, "stacks": {**others, stack: {
        "stack": stack, "source": "emulator", "kind": "team", "environment": outputs.environment,
        "exitCode": 0, "error": None, "outputs": outputs.export()}}}
    path.write_text(json.dumps(document, indent=2))
    return path


def push_image(aws: Aws, repository: str, tag: str, region: str | None = None) -> None:
    """An image manifest ``repository:tag`` in the emulated account's ECR (what CI's image push leaves)."""
    ecr = aws.client("ecr", region)
    try:
        ecr.create_repository(repositoryName=repository)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    digest = hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    ecr.put_image(repositoryName=repository, imageTag=tag, imageManifest=json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "layers": [],
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                   "digest": f"sha256:{digest}"}}))
