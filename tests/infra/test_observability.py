"""Observability as `pulumi up` would create it: encrypted alert topics with the owners subscribed,
a team dashboard built from the metric sets, team alarms per model endpoint and for failed training
jobs, platform alarms per NAT gateway (and cluster)."""

import json

from infra.components.observability import (
    TEAM_METRIC_SETS,
    AlertsArgs,
    PlatformObservability,
    PlatformObservabilityArgs,
    dashboard_body,
)
from infra.naming import Names

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


def test_team_topics_are_encrypted_per_serving_region_and_the_owners_subscribe(plans):
    view = plans["fraud-prod"]
    topics = {view.by_urn[t.provider].inputs["region"]: t for t in view.of_type(TOPIC)}
    assert {r: t.inputs["name"] for r, t in topics.items()} == {"eu-west-1": "fraud-prod-alerts",
                                                               "us-east-1": "fraud-prod-alerts-use1"}
    keys = {k.urn: k for k in view.of_type("aws:kms/key:Key")}
    for region, topic in topics.items():
        assert topic.inputs["kmsMasterKeyId"].startswith(f"arn:aws:kms:{region}:222222222222:key/")
        (key_urn,) = topic.property_dependencies["kmsMasterKeyId"]
        statements = json.loads(keys[key_urn].inputs["policy"])["Statement"]
        assert any(s.get("Sid") == "AlarmsPublishToEncryptedTopics" for s in statements)
    emails = sorted((s.inputs["endpoint"], s.inputs["topic"]) for s in view.of_type(SUBSCRIPTION))
    assert [e for e, _ in emails] == ["fraud-ml@example.com"] * 2 + ["fraud-oncall@example.com"] * 2
    assert {s.inputs["protocol"] for s in view.of_type(SUBSCRIPTION)} == {"email"}
    assert plans["platform-prod"].plan.outputs["alertsTopicArns"] == {
        "eu-west-1": "arn:aws:sns:eu-west-1:222222222222:platform-prod-alerts",
        "us-east-1": "arn:aws:sns:us-east-1:222222222222:platform-prod-alerts-use1"}


def test_the_dashboard_has_every_metric_set_once_per_region_it_applies_to(plans):
    view = plans["fraud-prod"]
    (dashboard,) = view.of_type(DASHBOARD)
    assert dashboard.inputs["dashboardName"] == "fraud-prod-dashboard"
    assert view.plan.outputs["dashboard"] == "fraud-prod-dashboard"
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"][1:]
    titles = [w["properties"]["title"] for w in widgets]
    assert titles == [
        "Endpoint invocations (eu-west-1)", "Endpoint invocations (us-east-1)",
        "Model latency (eu-west-1)", "Model latency (us-east-1)",
        "Endpoint errors (eu-west-1)", "Endpoint errors (us-east-1)",
        "Endpoint instances (eu-west-1)", "Endpoint instances (us-east-1)",
        "Training instances (eu-west-1)", "Training job failures (eu-west-1)"]
    latency = widgets[2]["properties"]["metrics"]
    assert [m[0]["expression"] for m in latency] == [
        "SEARCH('{AWS/SageMaker,EndpointName,VariantName} MetricName=\"ModelLatency\" fraud-prod', 'p50', 300)",
        "SEARCH('{AWS/SageMaker,EndpointName,VariantName} MetricName=\"ModelLatency\" fraud-prod', 'p99', 300)"]


def test_dashboards_come_from_one_definition_whatever_the_team():
    body = dashboard_body(Names("vision", "dev", "111111111111"), "eu-west-1", ["eu-west-1"])
    other = dashboard_body(Names("fraud", "dev", "111111111111"), "eu-west-1", ["eu-west-1"])
    assert len(body["widgets"]) == 1 + len(TEAM_METRIC_SETS)   # one serving region: a widget per set
    assert json.dumps(body).replace("vision", "fraud") == json.dumps(other)


def test_team_alarms_per_model_endpoint_notify_the_topic_of_their_region(plans):
    view = plans["fraud-prod"]
    alarms = {a.inputs["name"]: a for a in view.of_type(ALARM)}
    # the declared model's alarms (observability), the served model's rollback alarms (its endpoints), its front
    # doors' 5xx (failover) and drift alarms, training
    assert sorted(alarms) == ["fraud-prod-digits-5xx", "fraud-prod-digits-5xx-use1", "fraud-prod-digits-latency-p99",
                              "fraud-prod-digits-latency-p99-use1", "fraud-prod-scorer-5xx-euw1",
                              "fraud-prod-scorer-5xx-use1", "fraud-prod-scorer-api-5xx-euw1",
                              "fraud-prod-scorer-api-5xx-use1", "fraud-prod-scorer-drift-euw1",
                              "fraud-prod-scorer-drift-use1", "fraud-prod-scorer-latency-euw1",
                              "fraud-prod-scorer-latency-use1", "fraud-prod-training-failed-alarm"]
    latency = alarms["fraud-prod-digits-latency-p99-use1"].inputs
    assert (latency["namespace"], latency["metricName"], latency["extendedStatistic"], latency["threshold"],
            latency["evaluationPeriods"]) == ("AWS/SageMaker", "ModelLatency", "p99", 500_000, 3)
    assert latency["dimensions"] == {"EndpointName": "fraud-prod-digits", "VariantName": "AllTraffic"}
    assert latency["alarmActions"] == ["arn:aws:sns:us-east-1:222222222222:fraud-prod-alerts-use1"]
    errors = alarms["fraud-prod-digits-5xx"].inputs
    assert (errors["metricName"], errors["statistic"], errors["threshold"]) == ("Invocation5XXErrors", "Sum", 5)
    assert errors["treatMissingData"] == "notBreaching"
    dev = {a.inputs["name"]: a.inputs for a in plans["fraud-dev"].of_type(ALARM)}
    assert dev["fraud-dev-digits-latency-p99"]["threshold"] == 2_000_000   # dev default: 2000 ms


def test_failed_training_jobs_of_the_team_raise_an_alarm(plans):
    view = plans["vision-dev"]
    rule = view.named("vision-dev-training-failed", "aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"],
        "detail": {"TrainingJobStatus": ["Failed"], "TrainingJobName": [{"prefix": "vision-dev-"}]}}
    alarm = view.named("vision-dev-training-failed-alarm", ALARM).inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"], alarm["threshold"]) == (
        "AWS/Events", "MatchedEvents", {"RuleName": "vision-dev-training-failed"}, 0)


def test_platform_alarms_watch_every_nat_gateway_and_cluster(plans):
    names = sorted(a.inputs["name"] for a in plans["platform-prod"].of_type(ALARM))
    assert names == sorted([f"platform-prod-nat-{i}-{kind}-{code}" for i in range(3) for code in ("euw1", "use1")
                            for kind in ("port-errors", "dropped")]
                           + [f"platform-prod-cluster-failed-nodes-{code}" for code in ("euw1", "use1")])
    (nodes,) = [a for a in plans["platform-prod"].of_type(ALARM) if a.inputs["name"].endswith("failed-nodes-euw1")]
    assert (nodes.inputs["namespace"], nodes.inputs["metricName"], nodes.inputs["dimensions"]) == (
        "ContainerInsights", "cluster_failed_node_count", {"ClusterName": "platform-prod-eks-euw1"})
    (port,) = [a for a in plans["platform-dev"].of_type(ALARM) if a.inputs["name"].endswith("port-errors-euw1")]
    assert port.inputs["dimensions"]["NatGatewayId"].startswith("nat-0")
    assert port.inputs["alarmActions"] == ["arn:aws:sns:eu-west-1:111111111111:platform-dev-alerts"]


def test_platform_alarms_watch_a_cluster_when_there_is_one(component, platform_names):
    def build(providers):
        PlatformObservability("o", PlatformObservabilityArgs(
            AlertsArgs(platform_names, ["eu-west-1"], "eu-west-1", ["sre@example.com"],
                       {"eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/k"}),
            nat_gateway_ids={}, cluster_names={"eu-west-1": "platform-prod-euw1"}), providers)

    view = component(build)
    (alarm,) = view.of_type(ALARM)
    inputs = alarm.inputs
    assert (inputs["name"], inputs["namespace"], inputs["metricName"], inputs["dimensions"]) == (
        "platform-prod-cluster-failed-nodes-euw1", "ContainerInsights", "cluster_failed_node_count",
        {"ClusterName": "platform-prod-euw1"})
