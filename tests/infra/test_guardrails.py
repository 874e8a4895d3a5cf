"""Issue 7 item 2, SageMaker guardrails: workloads only inside the platform's VPC, isolated, encrypted with
the team's keys, logging to encrypted groups the stacks own. Each test fails on the blueprint before."""

import pytest

from infra.components.service_logs import SERVICE_LOG_GROUPS
from platform_lib.config.schema import PlatformConfig
from tests.infra.iam_eval import allowed, denied

TRAINING = "sagemaker:CreateTrainingJob"
JOB_ARN = "arn:aws:sagemaker:eu-west-1:222222222222:training-job/fraud-prod-churn-1"


def platform_ids(plans):
    networks = plans["platform-prod"].plan.outputs["networks"].values()
    return ([s for n in networks for s in n["privateSubnetIds"]], [n["sagemakerSecurityGroupId"] for n in networks])


def good_request(plans):
    subnets, groups = platform_ids(plans)
    key = plans["fraud-prod"].plan.outputs["keyArns"]["models"]["eu-west-1"]
    return {"sagemaker:VpcSubnets": subnets[:2], "sagemaker:VpcSecurityGroupIds": groups[:1],
            "sagemaker:NetworkIsolation": "true", "sagemaker:InterContainerTrafficEncryption": "true",
            "sagemaker:OutputKmsKey": key, "sagemaker:VolumeKmsKey": key}


def policies(plans):
    boundary = plans["platform-prod"].document(plans["platform-prod"].named("platform-prod-workload-boundary"))
    execution = plans["fraud-prod"].document(plans["fraud-prod"].named("fraud-prod-sagemaker-execution-policy"))
    return {"boundary": boundary["Statement"], "execution role": execution["Statement"]}


@pytest.mark.parametrize("change,reason", [
    ({"sagemaker:VpcSubnets": None}, "outside any VPC"),
    ({"sagemaker:VpcSubnets": ["subnet-0elsewhere000000000"]}, "in a foreign subnet"),
    ({"sagemaker:VpcSecurityGroupIds": ["sg-0wideopen0000000000"]}, "in a foreign security group"),
    ({"sagemaker:NetworkIsolation": None}, "without network isolation"),
    ({"sagemaker:NetworkIsolation": "false"}, "with network isolation off"),
    ({"sagemaker:InterContainerTrafficEncryption": "false"}, "with clear inter-container traffic"),
    ({"sagemaker:OutputKmsKey": None}, "without an output key"),
    ({"sagemaker:OutputKmsKey": "arn:aws:kms:eu-west-1:999999999999:key/foreign"}, "with a foreign output key"),
    ({"sagemaker:VolumeKmsKey": "arn:aws:kms:eu-west-1:999999999999:key/foreign"}, "with a foreign volume key"),
])
def test_training_jobs_outside_the_guardrails_are_denied(plans, change, reason):
    request = {k: v for k, v in {**good_request(plans), **change}.items() if v is not None}
    for name, statements in policies(plans).items():
        assert denied(statements, TRAINING, JOB_ARN, request), f"{name} lets a job run {reason}"


def test_subnets_without_security_groups_never_reach_iam():
    """Why the guardrails need no deny for missing security groups: SageMaker's API requires a VpcConfig's
    security groups and subnets together (botocore validates against the service model)."""
    import botocore.session
    from botocore.exceptions import ParamValidationError
    from botocore.validate import validate_parameters

    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for("VpcConfig")
    with pytest.raises(ParamValidationError, match="SecurityGroupIds"):
        validate_parameters({"Subnets": ["subnet-0123456789abcdef0"]}, shape)


def test_a_job_inside_the_guardrails_is_allowed_and_gpu_instances_need_no_volume_key(plans):
    request = good_request(plans)
    for name, statements in policies(plans).items():
        assert allowed(statements, TRAINING, JOB_ARN, request), name
        nvme = {k: v for k, v in request.items() if k != "sagemaker:VolumeKmsKey"}
        assert allowed(statements, TRAINING, JOB_ARN, nvme), name


def test_models_and_endpoint_configs_are_guarded_as_the_api_allows(plans):
    request = good_request(plans)
    model = "arn:aws:sagemaker:eu-west-1:222222222222:model/fraud-prod-churn"
    model_request = {k: request[k] for k in ("sagemaker:VpcSubnets", "sagemaker:VpcSecurityGroupIds",
                                             "sagemaker:NetworkIsolation")}
    for name, statements in policies(plans).items():
        assert allowed(statements, "sagemaker:CreateModel", model, model_request), name
        assert denied(statements, "sagemaker:CreateModel", model, {}), name
        config = "arn:aws:sagemaker:eu-west-1:222222222222:endpoint-config/fraud-prod-churn"
        assert denied(statements, "sagemaker:CreateEndpointConfig", config,
                      {"sagemaker:VolumeKmsKey": "arn:aws:kms:eu-west-1:999999999999:key/foreign"}), name


def test_execution_role_passes_only_itself_and_only_to_sagemaker(plans):
    statements = policies(plans)["execution role"]
    me = "arn:aws:iam::222222222222:role/fraud-prod-sagemaker-execution"
    assert allowed(statements, "iam:PassRole", me, {"iam:PassedToService": "sagemaker.amazonaws.com"})
    assert not allowed(statements, "iam:PassRole", me, {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not allowed(statements, "iam:PassRole", "arn:aws:iam::222222222222:role/fraud-prod-models-replication",
                       {"iam:PassedToService": "sagemaker.amazonaws.com"})


def test_execution_role_reads_but_never_writes_replicas(plans):
    statements = policies(plans)["execution role"]
    context = {"s3:ResourceAccount": "222222222222"}
    replica = "arn:aws:s3:::fraud-prod-models-222222222222-use1/model.tar.gz"
    primary = "arn:aws:s3:::fraud-prod-models-222222222222-euw1/model.tar.gz"
    assert allowed(statements, "s3:GetObject", replica, context)
    assert not allowed(statements, "s3:PutObject", replica, context)
    assert not allowed(statements, "s3:DeleteObject", replica, context)
    assert allowed(statements, "s3:PutObject", primary, context)


@pytest.mark.parametrize("stack,regions", [("platform-prod", ("eu-west-1", "us-east-1")),
                                           ("platform-dev", ("eu-west-1",))])
def test_service_log_groups_exist_encrypted_and_retained(plans, stack, regions):
    view = plans[stack]
    retention = {"platform-prod": 365, "platform-dev": 30}[stack]
    groups = [g for g in view.of_type("aws:cloudwatch/logGroup:LogGroup")
              if g.inputs["name"] in SERVICE_LOG_GROUPS.values()]
    assert sorted((view.by_urn[g.provider].inputs["region"], g.inputs["name"]) for g in groups) == sorted(
        (r, group) for r in regions for group in SERVICE_LOG_GROUPS.values())
    assert sorted(SERVICE_LOG_GROUPS.values()) == ["/aws-glue/crawlers", "/aws/sagemaker/ProcessingJobs",
                                                   "/aws/sagemaker/TrainingJobs", "/aws/sagemaker/TransformJobs"]
    keys = {view.by_urn[k.provider].inputs["region"]: k for k in view.of_type("aws:kms/key:Key") if "-logs-" in k.name}
    for group in groups:
        assert group.inputs["retentionInDays"] == retention
        region = view.by_urn[group.provider].inputs["region"]
        assert group.property_dependencies["kmsKeyId"] == [keys[region].urn]


def test_no_workload_role_can_create_log_groups(plans):
    for stack in ("platform-prod", "fraud-prod"):
        view = plans[stack]
        for resource in view.resources:
            if resource.type == "aws:iam/rolePolicy:RolePolicy" and "ci-deploy" not in resource.name or \
                    resource.name.endswith("workload-boundary"):
                statements = view.document(resource)["Statement"]
                assert not allowed(statements, "logs:CreateLogGroup",
                                   "arn:aws:logs:eu-west-1:222222222222:log-group:/aws/sagemaker/TrainingJobs"), \
                    resource.name


@pytest.mark.parametrize("stack", ["platform-prod", "platform-dev"])
def test_sagemaker_security_group_per_region_talks_only_to_itself_and_endpoints(plans, stack):
    view = plans[stack]
    groups = [g for g in view.of_type("aws:ec2/securityGroup:SecurityGroup") if "-sagemaker-sg-" in g.name]
    assert len(groups) == len(view.plan.outputs["regions"])
    for group in groups:
        code = group.name.rsplit("-", 1)[-1]
        endpoints_sg = view.named(f"{stack}-endpoints-sg-{code}")
        assert group.inputs["ingress"] == [{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True,
                                            "description": "between the workloads' instances"}]
        egress = {rule["description"]: rule for rule in group.inputs["egress"]}
        assert egress["AWS interface endpoints"]["securityGroups"] == [endpoints_sg.id]
        s3_endpoint = view.named(f"{stack}-s3-endpoint-{code}")
        assert s3_endpoint.urn in group.property_dependencies["egress"]  # its prefixListId: S3's ranges
        assert egress["S3 through its gateway endpoint"]["prefixListIds"][0].startswith("pl-0")
        assert not any("cidrBlocks" in rule for rule in group.inputs["egress"])


def test_prod_may_run_without_internet_egress_but_not_on_a_single_nat(plans):
    from platform_lib.config.loader import load_stack_file
    from tests.conftest import STACKS

    data = load_stack_file(STACKS / "Pulumi.platform-prod.yaml").config.model_dump(by_alias=True, mode="json")
    data["network"]["nat"] = "none"
    assert PlatformConfig.model_validate(data).network.nat == "none"
    data["network"]["nat"] = "single"
    with pytest.raises(ValueError, match="per-az .* or none"):
        PlatformConfig.model_validate(data)
