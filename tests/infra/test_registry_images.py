"""The container registry as `pulumi up` would create it: guarded repositories in every region of the
environment, replicated from the primary, their URIs in the platform's outputs."""

import json

from infra.components.container_registry import ContainerRegistry, ContainerRegistryArgs

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"


def test_every_image_is_in_every_region_with_every_guard(plans):
    view = plans["platform-prod"]
    repositories = view.of_type(REPOSITORY)
    keys = {k.urn: k for k in view.of_type("aws:kms/key:Key")}
    found = set()
    for repository in repositories:
        region = view.by_urn[repository.provider].inputs["region"]
        found.add((repository.inputs["name"], region))
        assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        (encryption,) = repository.inputs["encryptionConfigurations"]
        assert encryption["encryptionType"] == "KMS"
        assert encryption["kmsKey"].startswith(f"arn:aws:kms:{region}:222222222222:key/")
        (key_urn,) = repository.property_dependencies["encryptionConfigurations"]
        assert "images" in keys[key_urn].inputs["description"]
        assert repository.protect and repository.retain_on_delete and repository.inputs["forceDelete"] is False
    assert found == {(f"ml-platform/{image}", region) for image in ("training", "serving")
                     for region in ("eu-west-1", "us-east-1")}
    assert not plans["platform-dev"].of_type(REPOSITORY)[0].protect


def test_lifecycle_expires_untagged_images_and_keeps_the_last_releases(plans):
    for stack, (days, releases) in {"platform-dev": (7, 10), "platform-prod": (14, 50)}.items():
        for policy in plans[stack].of_type(LIFECYCLE):
            rules = json.loads(policy.inputs["policy"])["rules"]
            assert [(r["selection"]["tagStatus"], r["selection"]["countType"], r["selection"]["countNumber"],
                     r["action"]["type"]) for r in rules] == [
                ("untagged", "sinceImagePushed", days, "expire"), ("tagged", "imageCountMoreThan", releases, "expire")]
            assert rules[1]["selection"]["tagPrefixList"] == ["v"]


def test_only_the_environment_roles_and_sagemaker_may_pull(plans):
    (policy, *_) = plans["platform-dev"].of_type(POLICY)
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert statements == [
        {"Sid": "EnvironmentRolesPull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
         "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/*-dev-*"}}},
        {"Sid": "SageMakerPull", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
         "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
    ]


def test_the_primary_replicates_to_every_other_region_after_the_repositories_exist(plans):
    view = plans["platform-prod"]
    (replication,) = view.of_type(REPLICATION)
    assert view.by_urn[replication.provider].inputs["region"] == "eu-west-1"
    (rule,) = replication.inputs["replicationConfiguration"]["rules"]
    assert rule["destinations"] == [{"region": "us-east-1", "registryId": "222222222222"}]
    assert rule["repositoryFilters"] == [{"filter": "ml-platform/", "filterType": "PREFIX_MATCH"}]
    assert set(replication.dependencies) >= {r.urn for r in view.of_type(REPOSITORY)}
    assert plans["platform-dev"].of_type(REPLICATION) == []   # one region: nothing to replicate


def test_repository_uris_per_region_are_in_the_outputs(plans):
    assert plans["platform-prod"].plan.outputs["imageRepositories"] == {
        image: {"eu-west-1": f"222222222222.dkr.ecr.eu-west-1.amazonaws.com/ml-platform/{image}",
                "us-east-1": f"222222222222.dkr.ecr.us-east-1.amazonaws.com/ml-platform/{image}"}
        for image in ("training", "serving")}


def test_a_team_may_add_its_own_repositories_with_the_same_component(component, platform_names):
    """The component alone, with hand-written args (one region, one image)."""
    view = component(lambda providers: ContainerRegistry("r", ContainerRegistryArgs(
        platform_names, "eu-west-1", ["eu-west-1"], ["batch"], 3, 5,
        {"eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/k"}, protect=False), providers))
    (repository,) = view.of_type(REPOSITORY)
    assert repository.inputs["name"] == "ml-platform/batch"
    (lifecycle,) = view.of_type(LIFECYCLE)
    assert [r["selection"]["countNumber"] for r in json.loads(lifecycle.inputs["policy"])["rules"]] == [3, 5]
