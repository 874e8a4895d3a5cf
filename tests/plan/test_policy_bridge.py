"""The policy pack on real captured graphs: each rule passes the example stacks and catches one
realistic mistake in them (the bridge from captured registrations to pulumi-policy arguments)."""

import copy
import json

import pytest

from platform_lib.plan.policy_run import evaluate


def find(resources, name, token):
    return next(r for r in resources if r.name == name and r.type == token)


def drop(resources, name, token):
    resources.remove(find(resources, name, token))


def set_input(name, token, key, value):
    def mutate(resources):
        find(resources, name, token).inputs[key] = value
    return mutate


def rewrite_policy(name, token, key, change):
    def mutate(resources):
        resource = find(resources, name, token)
        document = json.loads(resource.inputs[key])
        change(document)
        resource.inputs[key] = json.dumps(document)
    return mutate


def without_tags(resources):
    for resource in resources:
        if resource.type == "pulumi:providers:aws":
            resource.inputs.pop("defaultTags", None)


def unprotect(resources):
    find(resources, "fraud-prod-raw", "aws:s3/bucket:Bucket").protect = False


FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
ECR = "aws:ecr/repository:Repository"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
MLFLOW = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"

# Issue 11: registries, tracking, observability and budgets.
REGISTRY_MUTATIONS = {
    "ecr-repository-scan-on-push": ("platform-prod", "platform-prod-image-training", set_input(
        "platform-prod-image-training", ECR, "imageScanningConfiguration", {"scanOnPush": False})),
    "ecr-repository-immutable-tags": ("platform-prod", "platform-prod-image-serving-use1", lambda r: find(
        r, "platform-prod-image-serving-use1", ECR).inputs.pop("imageTagMutability")),
    "ecr-repository-kms-encrypted": ("platform-dev", "platform-dev-image-serving", lambda r: find(
        r, "platform-dev-image-serving", ECR).inputs.pop("encryptionConfigurations")),
    "ecr-repository-lifecycle-policy": ("platform-dev", "platform-dev-image-training", lambda r: drop(
        r, "platform-dev-image-training-lifecycle", "aws:ecr/lifecyclePolicy:LifecyclePolicy")),
    "sns-topic-kms-encrypted": ("fraud-prod", "fraud-prod-alerts-use1", lambda r: find(
        r, "fraud-prod-alerts-use1", "aws:sns/topic:Topic").inputs.pop("kmsMasterKeyId")),
    "team-stack-has-budget": ("vision-prod", None, lambda r: drop(
        r, "vision-prod-budget", "aws:budgets/budget:Budget")),
    "sagemaker-model-package-group-policy-accounts": ("fraud-dev", "fraud-dev-digits-policy", rewrite_policy(
        "fraud-dev-digits-policy", GROUP_POLICY, "resourcePolicy",
        lambda doc: doc["Statement"][0].update(Principal={"AWS": "*"}))),
    "sagemaker-mlflow-artifact-store-guarded": ("platform-prod", "platform-prod-mlflow", set_input(
        "platform-prod-mlflow", MLFLOW, "artifactStoreUri", "s3://platform-prod-logs-222222222222-euw1/artifacts")),
}
CATALOG_SETTINGS = "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings"

SERVING_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SCHEDULE = "aws:scheduler/schedule:Schedule"


def unencrypted_batch(resources):
    schedule = find(resources, "fraud-prod-scorer-batch", SCHEDULE)
    request = json.loads(schedule.inputs["target"]["input"])
    request["TransformOutput"].pop("KmsKeyId")
    schedule.inputs["target"] = {**schedule.inputs["target"], "input": json.dumps(request)}


# Issue 12: serving routes, batch scoring, capture, rollback, autoscaling.
SERVING_MUTATIONS = {
    "sagemaker-prod-data-capture": ("fraud-prod", "fraud-prod-scorer-config-use1", lambda r: find(
        r, "fraud-prod-scorer-config-use1", SERVING_CONFIG).inputs.pop("dataCaptureConfig")),
    "sagemaker-prod-endpoint-auto-rollback": ("fraud-prod", "fraud-prod-scorer-euw1", lambda r: find(
        r, "fraud-prod-scorer-euw1", "aws:sagemaker/endpoint:Endpoint").inputs["deploymentConfig"].pop(
        "autoRollbackConfiguration")),
    "sagemaker-prod-variant-autoscaling": ("fraud-prod", "fraud-prod-scorer-use1", lambda r: drop(
        r, "fraud-prod-scorer-scaling-use1", "aws:appautoscaling/target:Target")),
    "apigateway-front-door-tls-and-logs": ("fraud-prod", "fraud-prod-scorer-domain-euw1", set_input(
        "fraud-prod-scorer-domain-euw1", "aws:apigateway/domainName:DomainName", "securityPolicy", "TLS_1_0")),
    "sagemaker-batch-transform-encrypted": ("fraud-prod", "fraud-prod-scorer-batch", unencrypted_batch),
    "sagemaker-prod-endpoint-drift-monitored": ("fraud-prod", "fraud-prod-scorer-use1", lambda r: drop(
        r, "fraud-prod-scorer-drift-use1", "aws:sagemaker/monitoringSchedule:MonitoringSchedule")),
}


def set_nested(name, token, path, value):
    def mutate(resources):
        target = find(resources, name, token).inputs
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


CLUSTER, NODE_GROUP = "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup"
PROD_CLUSTER = "platform-prod-eks-euw1"


MUTATIONS = {
    "s3-bucket-kms-encryption": ("fraud-prod", "fraud-prod-raw", lambda r: drop(
        r, "fraud-prod-raw-encryption",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")),
    "s3-bucket-public-access-blocked": ("fraud-prod", None, set_input(
        "fraud-prod-curated-public-access", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "blockPublicPolicy", False)),
    "s3-bucket-versioning-enabled": ("fraud-prod", None, set_input(
        "fraud-prod-models-versioning", "aws:s3/bucketVersioning:BucketVersioning",
        "versioningConfiguration", {"status": "Suspended"})),
    "s3-bucket-tls-only": ("fraud-prod", None, rewrite_policy(
        "fraud-prod-features-policy", "aws:s3/bucketPolicy:BucketPolicy", "policy",
        lambda doc: doc.update(Statement=[s for s in doc["Statement"] if s["Effect"] != "Deny"]))),
    "kms-key-rotation-enabled": ("fraud-prod", "fraud-prod-data-euw1", set_input(
        "fraud-prod-data-euw1", "aws:kms/key:Key", "enableKeyRotation", False)),
    "iam-no-wildcard-actions": ("fraud-prod", "fraud-prod-sagemaker-execution-policy", rewrite_policy(
        "fraud-prod-sagemaker-execution-policy", "aws:iam/rolePolicy:RolePolicy", "policy",
        lambda doc: doc["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"}))),
    "iam-team-role-permissions-boundary": ("fraud-prod", "fraud-prod-sagemaker-execution", lambda r: find(
        r, "fraud-prod-sagemaker-execution", "aws:iam/role:Role").inputs.pop("permissionsBoundary")),
    "required-tags": ("fraud-dev", None, without_tags),
    "vpc-flow-logs-enabled": ("platform-prod", "platform-prod-vpc-use1", lambda r: drop(
        r, "platform-prod-flow-log-use1", "aws:ec2/flowLog:FlowLog")),
    "security-group-no-public-ingress": ("platform-dev", "platform-dev-endpoints-sg-euw1", set_input(
        "platform-dev-endpoints-sg-euw1", "aws:ec2/securityGroup:SecurityGroup", "ingress",
        [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}])),
    "cloudwatch-log-group-encrypted-retained": ("platform-dev", "platform-dev-flow-logs-euw1", lambda r: find(
        r, "platform-dev-flow-logs-euw1", "aws:cloudwatch/logGroup:LogGroup").inputs.pop("kmsKeyId")),
    "prod-stateful-resources-protected": ("fraud-prod", "fraud-prod-raw", unprotect),
    "sagemaker-feature-group-kms-encrypted": ("fraud-prod", "fraud-prod-transactions", lambda r: find(
        r, "fraud-prod-transactions", FEATURE_GROUP).inputs["onlineStoreConfig"].pop("securityConfig")),
    "sagemaker-feature-group-offline-store-team-bucket": ("fraud-dev", "fraud-dev-transactions", lambda r: find(
        r, "fraud-dev-transactions", FEATURE_GROUP).inputs["offlineStoreConfig"]["s3StorageConfig"].update(
        s3Uri="s3://vision-dev-features-111111111111-euw1/offline-store")),   # copied from another team
    "glue-catalog-kms-encrypted": ("platform-prod", "platform-prod-catalog-encryption-euw1", lambda r: find(
        r, "platform-prod-catalog-encryption-euw1", CATALOG_SETTINGS).inputs["dataCatalogEncryptionSettings"][
        "encryptionAtRest"].update(catalogEncryptionMode="DISABLED")),
    "athena-workgroup-kms-and-scan-limit": ("fraud-dev", "fraud-dev-analytics", lambda r: find(
        r, "fraud-dev-analytics", "aws:athena/workgroup:Workgroup").inputs["configuration"].pop(
        "bytesScannedCutoffPerQuery")),
    "eks-endpoint-not-public": ("platform-prod", PROD_CLUSTER, set_nested(
        PROD_CLUSTER, CLUSTER, ["vpcConfig", "endpointPublicAccess"], True)),
    "eks-secrets-encrypted": ("platform-prod", PROD_CLUSTER, lambda r: find(r, PROD_CLUSTER, CLUSTER).inputs.pop(
        "encryptionConfig")),
    "eks-control-plane-logging": ("platform-prod", PROD_CLUSTER, set_input(
        PROD_CLUSTER, CLUSTER, "enabledClusterLogTypes", ["api", "audit"])),
    "eks-kubernetes-version-supported": ("platform-prod", PROD_CLUSTER, set_input(
        PROD_CLUSTER, CLUSTER, "version", "1.27")),
    "launch-template-imdsv2-encrypted": ("platform-prod", "platform-prod-gpu-serving-nodes-euw1-lt", set_nested(
        "platform-prod-gpu-serving-nodes-euw1-lt", "aws:ec2/launchTemplate:LaunchTemplate",
        ["metadataOptions", "httpTokens"], "optional")),
    "eks-gpu-instance-families-allowed": ("platform-dev", "platform-dev-gpu-a10g-nodes-euw1", set_input(
        "platform-dev-gpu-a10g-nodes-euw1", NODE_GROUP, "instanceTypes", ["p5.48xlarge"])),
    "gpu-taint-tolerated": ("platform-prod", "platform-prod-gpu-training-nodes-use1", set_input(
        "platform-prod-gpu-training-nodes-use1", NODE_GROUP, "taints", [])),
    "k8s-namespace-resource-quota": ("fraud-prod", "fraud-prod-tenancy-use1-namespace", lambda r: drop(
        r, "fraud-prod-tenancy-use1-quota", "kubernetes:core/v1:ResourceQuota")),
    "k8s-containers-non-root": ("platform-prod", "platform-prod-eks-euw1-cluster-autoscaler", set_nested(
        "platform-prod-eks-euw1-cluster-autoscaler", "kubernetes:apps/v1:Deployment",
        ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"], True)),
    **REGISTRY_MUTATIONS,
    # Issue 14: a retraining step edited by hand to write its model without the KMS key.
    "sagemaker-pipeline-steps-guarded": ("fraud-prod", "fraud-prod-digits-retrain", rewrite_policy(
        "fraud-prod-digits-retrain", "aws:sagemaker/pipeline:Pipeline", "pipelineDefinition",
        lambda doc: doc["Steps"][1]["Arguments"]["OutputDataConfig"].pop("KmsKeyId"))),
    **SERVING_MUTATIONS,
}


# Issue 12 item 4: Kubernetes serving (vision-prod serves `defects` on the GPU pools of both regions).
SERVING_DEPLOYMENT = "vision-prod-defects-k8s-euw1-deployment"
SERVING_CONTAINER = ["spec", "template", "spec", "containers", 0]
K8S_SERVING_MUTATIONS = {
    "k8s-deployment-probes": ("vision-prod", SERVING_DEPLOYMENT, lambda r: find(
        r, SERVING_DEPLOYMENT, "kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"]["containers"][0]
        .pop("readinessProbe")),
    "k8s-container-resources": ("vision-prod", SERVING_DEPLOYMENT, set_nested(
        SERVING_DEPLOYMENT, "kubernetes:apps/v1:Deployment", [*SERVING_CONTAINER, "resources", "limits"], {})),
    "k8s-read-only-root-filesystem": ("vision-prod", SERVING_DEPLOYMENT, set_nested(
        SERVING_DEPLOYMENT, "kubernetes:apps/v1:Deployment",
        [*SERVING_CONTAINER, "securityContext", "readOnlyRootFilesystem"], False)),
    "k8s-prod-disruption-budget": ("vision-prod", SERVING_DEPLOYMENT, lambda r: drop(
        r, "vision-prod-defects-k8s-euw1-pdb", "kubernetes:policy/v1:PodDisruptionBudget")),
}
MUTATIONS.update(K8S_SERVING_MUTATIONS)
# Issue 14: the new-data trigger's role widened from its pipeline to every pipeline of the account.
MUTATIONS["sagemaker-pipeline-starter-scoped"] = ("fraud-dev", "fraud-dev-scorer-new-data", rewrite_policy(
    "fraud-dev-scorer-new-data-policy", "aws:iam/rolePolicy:RolePolicy", "policy",
    lambda doc: doc["Statement"][0].update(Resource="arn:aws:sagemaker:eu-west-1:111111111111:pipeline/*")))
# Issue 12 items 3-4: the Kubernetes model's regional door (an internal NLB per region).
MUTATIONS["elb-network-load-balancer-internal"] = ("vision-prod", "vision-prod-defects-nlb-use1", set_input(
    "vision-prod-defects-nlb-use1", "aws:lb/loadBalancer:LoadBalancer", "internal", False))

def test_every_rule_has_a_mutation():
    from policies.pack import RULES

    # the issue-7 rules' mutations live in tests/policies/test_policy_real_stacks.py, which checks the union
    assert set(MUTATIONS) <= {rule.id for rule in RULES}


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_rule_catches_a_mistake_in_a_real_stack(plans, rule):
    stack, culprit, mutate = MUTATIONS[rule]
    view = plans[stack]
    env = view.plan.environment
    assert not [v for v in evaluate(view.resources, env) if v.rule == rule]
    resources = copy.deepcopy(view.resources)
    mutate(resources)
    found = [v for v in evaluate(resources, env) if v.rule == rule]
    assert found, f"{rule} missed the mistake"
    if culprit:
        assert culprit in {v.name for v in found}, [v.as_json() for v in found]
    if env == "prod" or rule in ("s3-bucket-public-access-blocked", "iam-no-wildcard-actions"):
        assert {v.level for v in found} == {"mandatory"}


def test_prod_rule_config_reaches_the_rule(plans):
    """policies/config/prod.json asks a year of logs: 30 days passes in dev but not in prod."""
    view = plans["platform-prod"]
    resources = copy.deepcopy(view.resources)
    set_input("platform-prod-flow-logs-euw1", "aws:cloudwatch/logGroup:LogGroup", "retentionInDays", 30)(resources)
    found = [v for v in evaluate(resources, "prod") if v.rule == "cloudwatch-log-group-encrypted-retained"]
    assert [v.name for v in found] == ["platform-prod-flow-logs-euw1"]
    assert not [v for v in evaluate(resources, "dev") if v.rule == "cloudwatch-log-group-encrypted-retained"]
