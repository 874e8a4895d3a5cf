"""ModelRoute, BatchScoring and DriftMonitor alone, from their args: what API Gateway, ACM, Route 53,
EventBridge Scheduler, SageMaker and CloudWatch get."""

from __future__ import annotations

import json

import pytest

from infra.components.batch import EXECUTION_ID, BatchScoring, BatchScoringArgs
from infra.components.monitoring import DriftMonitor, DriftMonitorArgs, analyzer_image
from infra.components.routing import (
    ACCESS_LOG_FORMAT,
    ModelRoute,
    ModelRouteArgs,
    RegionalDoor,
    SageMakerBackend,
    hostname,
)

ZONE = "Z0123456789ABCDEFGHIJ"
HOST = "scorer.fraud-dev.ml.example.com"
LOGS_KEY = {"eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/logs-euw1",
            "us-east-1": "arn:aws:kms:us-east-1:123456789012:key/logs-use1"}
TOPIC = {"eu-west-1": "arn:aws:sns:eu-west-1:123456789012:fraud-dev-alerts",
         "us-east-1": "arn:aws:sns:us-east-1:123456789012:fraud-dev-alerts"}
BOUNDARY = "arn:aws:iam::123456789012:policy/platform-dev-workload-boundary"
REGIONS = ("eu-west-1", "us-east-1")


def route(component, names):
    def build(providers):
        doors = {r: RegionalDoor(SageMakerBackend(f"fraud-dev-scorer-{code}"), LOGS_KEY[r], providers[r], TOPIC[r])
                 for r, code in zip(REGIONS, ("euw1", "use1"), strict=True)}
        ModelRoute("route", ModelRouteArgs(names, "scorer", HOST, ZONE, doors, BOUNDARY, 30, error_alarm_percent=2))
    return component(build, regions=REGIONS)


def test_hostname_carries_the_environment_outside_prod():
    assert hostname("scorer", "fraud", "prod", "ml.example.com") == "scorer.fraud.ml.example.com"
    assert hostname("scorer", "fraud", "dev", "ml.example.com") == HOST


def test_each_region_has_a_tls12_door_calling_only_its_endpoint_with_iam_auth(component, team_names):
    view = route(component, team_names)
    for region, code in (("eu-west-1", "euw1"), ("us-east-1", "use1")):
        api = view.named(f"fraud-dev-scorer-api-{code}", "aws:apigateway/restApi:RestApi")
        assert api.inputs["endpointConfiguration"] == {"types": "REGIONAL"} and view.region_of(api) == region
        invoke = view.named(f"fraud-dev-scorer-api-invoke-{code}", "aws:apigateway/method:Method").inputs
        assert (invoke["httpMethod"], invoke["authorization"]) == ("POST", "AWS_IAM")
        integration = view.named(f"fraud-dev-scorer-api-invoke-integration-{code}").inputs
        assert integration["uri"] == (f"arn:aws:apigateway:{region}:runtime.sagemaker:path/endpoints/"
                                      f"fraud-dev-scorer-{code}/invocations")
        assert (integration["type"], integration["credentials"]) == (
            "AWS", f"arn:aws:iam::123456789012:role/fraud-dev-scorer-api-{code}")
        ping = view.named(f"fraud-dev-scorer-api-ping-get-{code}", "aws:apigateway/method:Method").inputs
        assert (ping["httpMethod"], ping["authorization"]) == ("GET", "NONE")
        ping_integration = view.named(f"fraud-dev-scorer-api-ping-integration-{code}").inputs
        assert ping_integration["uri"] == f"arn:aws:apigateway:{region}:api.sagemaker:action/DescribeEndpoint"
        assert json.loads(ping_integration["requestTemplates"]["application/json"]) == {
            "EndpointName": f"fraud-dev-scorer-{code}"}
        ok = view.named(f"fraud-dev-scorer-api-ping-200-mapping-{code}").inputs
        assert ok["responseTemplates"] == {"application/json": (
            "{\"status\": \"$input.path('$.EndpointStatus')\", \"region\": \"" + region + "\"}")}
        errors = view.named(f"fraud-dev-scorer-api-invoke-503-mapping-{code}").inputs
        assert errors["selectionPattern"] == r"5\d{2}"
        answer = view.named(f"fraud-dev-scorer-api-invoke-200-mapping-{code}").inputs   # JSON, CSV or .npy
        assert answer["responseParameters"] == {
            "method.response.header.Content-Type": "integration.response.header.Content-Type"}
        assert "selectionPattern" not in answer and "responseTemplates" not in answer
        role = view.named(f"fraud-dev-scorer-api-{code}", "aws:iam/role:Role").inputs
        assert role["permissionsBoundary"] == BOUNDARY
        policy = view.document(view.named(f"fraud-dev-scorer-api-{code}-policy"))
        assert policy["Statement"] == [{
            "Sid": "OneEndpoint", "Effect": "Allow",
            "Action": ["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"],
            "Resource": f"arn:aws:sagemaker:{region}:123456789012:endpoint/fraud-dev-scorer-{code}"}]
        domain = view.named(f"fraud-dev-scorer-domain-{code}").inputs
        assert (domain["domainName"], domain["securityPolicy"]) == (HOST, "TLS_1_2")
        stage = view.named(f"fraud-dev-scorer-api-stage-{code}").inputs
        assert stage["stageName"] == "live" and stage["accessLogSettings"]["format"] == ACCESS_LOG_FORMAT
        logs = view.named(f"fraud-dev-scorer-api-access-{code}").inputs
        assert (logs["kmsKeyId"], logs["retentionInDays"]) == (LOGS_KEY[region], 30)
        assert stage["accessLogSettings"]["destinationArn"].endswith(f":log-group:{logs['name']}")


def test_one_validation_record_serves_the_certificate_of_every_region(component, team_names):
    view = route(component, team_names)
    [record] = [r for r in view.of_type("aws:route53/record:Record") if r.inputs["type"] == "CNAME"]
    assert record.inputs["zoneId"] == ZONE and record.inputs["name"].endswith(f".{HOST}.")
    for code in ("euw1", "use1"):
        issued = view.named(f"fraud-dev-scorer-certificate-issued-{code}").inputs
        assert issued["validationRecordFqdns"] == [record.inputs["name"]]
        certificate = view.named(f"fraud-dev-scorer-certificate-{code}").inputs
        assert (certificate["domainName"], certificate["validationMethod"]) == (HOST, "DNS")


def test_latency_records_fail_over_on_ping_and_on_the_5xx_alarm(component, team_names):
    view = route(component, team_names)
    for region, code in (("eu-west-1", "euw1"), ("us-east-1", "use1")):
        record = view.named(f"fraud-dev-scorer-route-{code}").inputs
        assert (record["name"], record["type"], record["setIdentifier"]) == (HOST, "A", region)
        assert record["latencyRoutingPolicies"] == [{"region": region}]
        [alias] = record["aliases"]
        assert alias["evaluateTargetHealth"] is True and alias["name"].endswith(f".execute-api.{region}.amazonaws.com")
        health = view.named(f"fraud-dev-scorer-health-{code}")
        assert record["healthCheckId"] == health.id
        assert sorted(health.inputs["childHealthchecks"]) == sorted(
            view.named(f"fraud-dev-scorer-{kind}-check-{code}").id for kind in ("ping", "alarm"))
        assert (health.inputs["type"], health.inputs["childHealthThreshold"]) == ("CALCULATED", 2)
        ping = view.named(f"fraud-dev-scorer-ping-check-{code}").inputs
        assert (ping["type"], ping["resourcePath"], ping["searchString"], ping["requestInterval"],
                ping["failureThreshold"]) == ("HTTPS_STR_MATCH", "/live/ping", "InService", 30, 3)
        assert ping["fqdn"].endswith(f".execute-api.{region}.amazonaws.com")
        alarm_check = view.named(f"fraud-dev-scorer-alarm-check-{code}").inputs
        assert (alarm_check["cloudwatchAlarmName"], alarm_check["cloudwatchAlarmRegion"],
                alarm_check["insufficientDataHealthStatus"]) == (f"fraud-dev-scorer-api-5xx-{code}", region,
                                                                 "Unhealthy")
        alarm = view.named(f"fraud-dev-scorer-api-5xx-{code}", "aws:cloudwatch/metricAlarm:MetricAlarm").inputs
        # Route 53 reads standard statistics only: Average of 5XXError is the share of 5xx answers
        assert (alarm["namespace"], alarm["metricName"], alarm["statistic"], alarm["threshold"], alarm["period"]) == (
            "AWS/ApiGateway", "5XXError", "Average", 0.02, 60)
        assert "extendedStatistic" not in alarm and "metricQueries" not in alarm
        assert alarm["alarmActions"] == [TOPIC[region]]


def batch(component, names, instance="ml.m5.large"):
    args = BatchScoringArgs(names, "eu-west-1", "scorer", "fraud-dev-scorer-model-euw1-abc", instance,
                            "cron(0 2 * * ? *)", "fraud-dev-curated-123456789012-euw1",
                            "arn:aws:kms:eu-west-1:123456789012:key/data", BOUNDARY, tags={"team": "fraud"})
    return component(lambda p: BatchScoring("batch", args, p["eu-west-1"]))


def test_batch_scoring_starts_a_uniquely_named_encrypted_transform_per_run(component, team_names):
    view = batch(component, team_names)
    schedule = view.named("fraud-dev-scorer-batch", "aws:scheduler/schedule:Schedule").inputs
    assert schedule["scheduleExpression"] == "cron(0 2 * * ? *)" and schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    target = schedule["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createTransformJob"
    assert target["retryPolicy"] == {"maximumRetryAttempts": 0}
    request = json.loads(target["input"])
    assert request["TransformJobName"] == f"fraud-dev-scorer-{EXECUTION_ID}"
    assert request["ModelName"] == "fraud-dev-scorer-model-euw1-abc"
    assert request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] == (
        "s3://fraud-dev-curated-123456789012-euw1/batch/scorer/input/")
    assert request["TransformOutput"] == {
        "S3OutputPath": f"s3://fraud-dev-curated-123456789012-euw1/batch/scorer/output/{EXECUTION_ID}/",
        "KmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/data", "Accept": "text/csv", "AssembleWith": "Line"}
    assert request["TransformResources"]["VolumeKmsKeyId"] == "arn:aws:kms:eu-west-1:123456789012:key/data"
    assert request["Tags"] == [{"Key": "team", "Value": "fraud"}]
    # 63 characters: the longest job name SageMaker takes, with Scheduler's 16-character execution id
    assert len(request["TransformJobName"].replace(EXECUTION_ID, "d32c5kddcf5bb8c3")) <= 63
    policy = view.document(view.named("fraud-dev-scorer-batch-policy"))
    jobs = "arn:aws:sagemaker:eu-west-1:123456789012:transform-job/fraud-dev-scorer-*"
    assert policy["Statement"] == [
        {"Sid": "ThisModelsJobs", "Effect": "Allow", "Action": ["sagemaker:CreateTransformJob"], "Resource": jobs,
         "Condition": {"ArnEquals": {"sagemaker:OutputKmsKey": "arn:aws:kms:eu-west-1:123456789012:key/data"}}},
        {"Sid": "TagTheJobs", "Effect": "Allow", "Action": ["sagemaker:AddTags"], "Resource": jobs}]


def test_batch_on_local_nvme_instances_names_no_volume_key(component, team_names):
    schedule = batch(component, team_names, instance="ml.g5.xlarge").named(
        "fraud-dev-scorer-batch", "aws:scheduler/schedule:Schedule").inputs
    assert "VolumeKmsKeyId" not in json.loads(schedule["target"]["input"])["TransformResources"]


def test_drift_monitor_compares_captured_data_hourly_and_alarms_on_the_largest_drift(component, team_names):
    args = DriftMonitorArgs(team_names, "us-east-1", "scorer", "fraud-dev-scorer-use1", ["amount", "count_24h"], 0.2,
                            "arn:aws:iam::123456789012:role/fraud-dev-sagemaker-execution",
                            "fraud-dev-models-123456789012-use1", "arn:aws:kms:us-east-1:123456789012:key/models",
                            ["subnet-0a"], "sg-0b", TOPIC["us-east-1"])
    view = component(lambda p: DriftMonitor("drift", args, p["us-east-1"]), regions=("us-east-1",))
    definition = view.named("fraud-dev-scorer-dq-use1",
                            "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition").inputs
    assert definition["dataQualityAppSpecification"]["imageUri"] == (
        "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer")
    assert definition["dataQualityBaselineConfig"]["statisticsResource"]["s3Uri"] == (
        "s3://fraud-dev-models-123456789012-use1/monitoring/scorer/baseline/statistics.json")
    assert definition["dataQualityJobOutputConfig"]["kmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/models"
    assert definition["networkConfig"] == {"enableNetworkIsolation": True,
                                           "enableInterContainerTrafficEncryption": True,
                                           "vpcConfig": {"subnets": ["subnet-0a"], "securityGroupIds": ["sg-0b"]}}
    schedule = view.named("fraud-dev-scorer-drift-use1",
                          "aws:sagemaker/monitoringSchedule:MonitoringSchedule").inputs["monitoringScheduleConfig"]
    assert (schedule["monitoringJobDefinitionName"], schedule["monitoringType"]) == (
        "fraud-dev-scorer-dq-use1", "DataQuality")
    alarm = view.named("fraud-dev-scorer-drift-use1", "aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert alarm["metricQueries"][-1]["expression"] == "MAX([f0, f1])" and alarm["threshold"] == 0.2
    assert [q["metric"]["metricName"] for q in alarm["metricQueries"][:2]] == [
        "feature_baseline_drift_amount", "feature_baseline_drift_count_24h"]
    assert alarm["metricQueries"][0]["metric"]["dimensions"] == {
        "Endpoint": "fraud-dev-scorer-use1", "MonitoringSchedule": "fraud-dev-scorer-drift-use1"}
    assert alarm["alarmActions"] == [TOPIC["us-east-1"]]


def test_drift_monitor_refuses_a_region_without_a_known_analyzer_image():
    with pytest.raises(ValueError, match="no Model Monitor analyzer image known for af-south-1"):
        analyzer_image("af-south-1")


def test_names_fit_aws_limits_for_the_longest_team_environment_model_and_region_code():
    """The schema's longest team (20), environment (`staging`; monitors run in `prod`), model (24) and a
    5-character region code: job, schedule and role names stay within AWS's limits."""
    from infra.components.batch import job_prefix
    from infra.naming import Names

    staging, prod = Names("abcdefghijklmnopqrst", "staging", "1"), Names("abcdefghijklmnopqrst", "prod", "1")
    model = "a" * 24
    assert len(f"{job_prefix(staging, model)}-{'x' * 36}") <= 63                 # TransformJobName
    assert len(staging.resource(f"{model}-batch")) <= 64                          # Scheduler name, IAM role
    assert len(staging.resource(f"{model}-api", "ap-southeast-7")) <= 64                   # IAM role
    assert len(prod.resource(f"{model}-dq", "ap-southeast-7")) <= 63                       # job definition
    assert len(prod.resource(f"{model}-drift", "ap-southeast-7")) <= 63                    # monitoring schedule
    assert job_prefix(Names("fraud", "prod", "1"), "scorer") == "fraud-prod-scorer"
