"""`mlp cost` against hand-computed figures from the price sheets, unpriced resources reported as such,
and a price sheet that cannot be trusted refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from platform_lib import cost
from platform_lib.plan.capture import CapturedResource

ROOT = Path(__file__).resolve().parents[2]
HOURS = 730


def price(region: str, key: str) -> float:
    return cost.default_sheets()[region].entries[key].price


def of_type(stack_cost: cost.StackCost, token: str) -> list[cost.Estimate]:
    return [e for e in stack_cost.estimates if e.type == token]


@pytest.fixture(scope="module")
def costs(plans) -> dict[str, cost.StackCost]:
    return {name: cost.estimate(name, view.resources) for name, view in plans.items()}


def test_nat_gateways_cost_their_hours_with_data_processing_listed_as_usage(costs):
    # eu-west-1 0.048 USD per NAT-hour, us-east-1 0.045 (prices/aws-*.yaml)
    (nat,) = of_type(costs["platform-dev"], "aws:ec2/natGateway:NatGateway")
    assert (nat.idle, nat.at_max) == pytest.approx((35.04, 35.04))
    assert nat.usage == ("0.048 USD per GB processed (nat-gateway-data)",)
    nats = of_type(costs["platform-prod"], "aws:ec2/natGateway:NatGateway")
    prod = sorted((e.region, round(e.idle or 0, 2)) for e in nats)
    assert prod == [("eu-west-1", 35.04)] * 3 + [("us-east-1", 32.85)] * 3
    assert price("eu-west-1", "nat-gateway") * HOURS == pytest.approx(35.04)


def test_interface_endpoints_cost_per_az_and_gateway_endpoints_nothing(costs):
    endpoints = of_type(costs["platform-dev"], "aws:ec2/vpcEndpoint:VpcEndpoint")
    interface = [e for e in endpoints if e.idle]
    assert len(interface) == 9 and {round(e.idle or 0, 2) for e in interface} == {8.03}     # 0.011 × 730 h × 1 AZ
    assert sorted(e.basis for e in endpoints if not e.idle) == ["no charge (vpc-endpoint-gateway)"] * 2
    prod_endpoints = of_type(costs["platform-prod"], "aws:ec2/vpcEndpoint:VpcEndpoint")
    prod = {(e.region, round(e.idle or 0, 2)) for e in prod_endpoints if e.idle}
    assert prod == {("eu-west-1", 24.09), ("us-east-1", 21.9)}                          # × 3 AZs


def test_a_team_stack_costs_its_keys_alarms_and_dashboard(costs):
    fraud = costs["fraud-dev"]
    keys = of_type(fraud, "aws:kms/key:Key")
    alarms = of_type(fraud, "aws:cloudwatch/metricAlarm:MetricAlarm")
    (dashboard,) = of_type(fraud, "aws:cloudwatch/dashboard:Dashboard")
    assert (len(keys), {e.idle for e in keys}) == (3, {1.0})           # data, models, alerts: 1 USD per key-month
    # latency and 5xx of the registered model not served by the stack (digits), training failures; the served
    # scorer endpoint's 5xx and latency rollback alarms (they notify the team's topic)
    assert (len(alarms), {e.idle for e in alarms}) == (5, {0.1})
    assert dashboard.idle == 3.0
    assert (fraud.idle, fraud.at_max) == (6.5, 6.5)
    # buckets and repositories are priced by what they hold: zero when idle, the rate stated
    (bucket, *_) = of_type(fraud, "aws:s3/bucket:Bucket")
    assert (bucket.idle, bucket.usage) == (0.0, ("0.023 USD per GB-month (s3-standard)",))


def test_the_platform_dev_total_is_the_sum_of_its_hand_computed_parts(costs):
    platform = costs["platform-dev"]
    keys = len(of_type(platform, "aws:kms/key:Key"))
    alarms = len(of_type(platform, "aws:cloudwatch/metricAlarm:MetricAlarm"))
    # the control plane; the system pool's one m6i.large and its 100 GiB gp3 root volume (0.088 USD per GB-month)
    cluster = 0.10 * HOURS + 1 * 0.107 * HOURS + 1 * 100 * 0.088
    expected = 0.048 * HOURS + 0.005 * HOURS + 9 * 0.011 * HOURS + keys * 1.0 + alarms * 0.10 + cluster
    assert (keys, alarms) == (6, 3)      # logs, catalog, images, alerts, tracking, eks; NAT ports, drops, nodes
    assert platform.idle == pytest.approx(round(expected, 2))


def test_resources_without_a_price_are_listed_as_unpriced_never_zero(costs):
    platform = costs["platform-dev"]
    (server,) = [e for e in platform.unpriced if e.type.endswith("MlflowTrackingServer")]
    assert server.unpriced == "no entry 'sagemaker-mlflow/Small' in the price sheet of eu-west-1"
    assert server.idle is None and server not in platform.priced
    (budget,) = [e for e in costs["fraud-dev"].unpriced if e.type == "aws:budgets/budget:Budget"]
    assert budget.unpriced == "no price model for aws:budgets/budget:Budget"
    document = costs["fraud-dev"].as_json()
    assert {"urn": budget.urn, "type": budget.type, "name": "fraud-dev-budget", "region": "eu-west-1",
            "unpriced": budget.unpriced} in document["unpriced"]
    assert all("idleMonthly" not in entry for entry in document["unpriced"])


def resource(token: str, inputs: dict, region: str = "eu-west-1") -> list[CapturedResource]:
    provider = CapturedResource("pulumi:providers:aws", "aws", "urn:p", None, None, True, {"region": region})
    return [provider, CapturedResource(token, "r", f"urn:{token}", None, "urn:p", True, inputs)]


def eu_west_1_sheet(directory, entries: dict, name: str = "aws-eu-west-1.yaml"):
    """A dated eu-west-1 price sheet of ``entries`` in ``directory``."""
    (directory / name).write_text(yaml.safe_dump({
        "region": "eu-west-1", "currency": "USD", "recorded": "2026-11-22", "hoursPerMonth": 730, "entries": entries}))


def test_scalable_resources_cost_their_minimum_idle_and_their_maximum_at_max(tmp_path):
    eu_west_1_sheet(tmp_path, {
        "ec2/g5.xlarge": {"price": 1.123, "unit": "instance-hour", "source": "https://aws.amazon.com/ec2/pricing/"},
        "ebs/gp3": {"price": 0.088, "unit": "GB-month", "source": "https://aws.amazon.com/ebs/pricing/"}})
    sheets = cost.load_sheets(tmp_path)
    group = {"instanceTypes": ["g5.xlarge"], "scalingConfig": {"minSize": 0, "maxSize": 4, "desiredSize": 0},
             "diskSize": 200}
    (line,) = cost.estimate("s", resource("aws:eks/nodeGroup:NodeGroup", group), sheets).estimates
    assert (line.idle, round(line.at_max or 0, 2)) == (0.0, round(4 * (1.123 * 730 + 200 * 0.088), 2))   # 3349.56
    (elsewhere,) = cost.estimate("s", resource("aws:eks/nodeGroup:NodeGroup", group, "ap-southeast-7"),
                                 sheets).estimates
    assert elsewhere.unpriced == "no price sheet for ap-southeast-7 (prices/aws-ap-southeast-7*.yaml)"


def test_node_groups_count_their_launch_templates_root_volumes_at_min_and_max_nodes(costs):
    # platform-dev's system pool: 1 to 3 m6i.large (0.107 USD per hour) with a 100 GiB gp3 root volume each
    # (0.088 USD per GB-month in eu-west-1); its GPU pool: 0 to 4 g5.xlarge (1.123) with 100 GiB each
    groups = {e.name: e for e in of_type(costs["platform-dev"], "aws:eks/nodeGroup:NodeGroup")}
    system, gpu = groups["platform-dev-system-nodes-euw1"], groups["platform-dev-gpu-a10g-nodes-euw1"]
    assert (round(system.idle or 0, 2), round(system.at_max or 0, 2)) == (86.91, 260.73)   # 78.11 + 8.80, × 3
    assert (gpu.idle, round(gpu.at_max or 0, 2)) == (0.0, 3314.36)                          # 4 × (819.79 + 8.80)
    assert system.basis.endswith("+ 100 GiB × 0.088 USD per GB-month (ebs/gp3) per node (launch template /dev/xvda)")
    templates = of_type(costs["platform-dev"], "aws:ec2/launchTemplate:LaunchTemplate")
    assert {(e.idle, e.basis) for e in templates} == {(0.0, "no charge (ec2-launch-template)")}
    document = costs["platform-dev"].as_json()     # what `mlp cost --json` writes per stack
    (entry,) = [r for r in document["resources"] if r["name"] == "platform-dev-system-nodes-euw1"]
    assert (entry["idleMonthly"], entry["maxMonthly"]) == (86.91, 260.73)


def test_mlp_cost_agrees_with_the_readmes_idle_dev_cluster_figure(costs):
    """README's "What an idle dev cluster costs" (control plane, eks key, system pool with its root volume)."""
    platform = costs["platform-dev"]
    (cluster,) = of_type(platform, "aws:eks/cluster:Cluster")
    (eks_key,) = [e for e in of_type(platform, "aws:kms/key:Key") if "eks" in e.name]
    groups = of_type(platform, "aws:eks/nodeGroup:NodeGroup")
    total = round(sum(e.idle or 0 for e in [cluster, eks_key, *groups]), 2)
    assert total == 160.91
    assert f"Total: **${total:.2f} per month**" in (ROOT / "README.md").read_text()


def node_group_with_template(mappings: list[dict], linked: bool = True) -> list[CapturedResource]:
    """A provider, a launch template with ``mappings`` and a node group of 2 to 5 nodes that launches it."""
    provider, template = resource("aws:ec2/launchTemplate:LaunchTemplate", {"name": "lt",
                                                                           "blockDeviceMappings": mappings})
    group = CapturedResource(
        "aws:eks/nodeGroup:NodeGroup", "g", "urn:g", None, "urn:p", True,
        {"instanceTypes": ["m6i.large"], "scalingConfig": {"minSize": 2, "maxSize": 5},
         "launchTemplate": {"id": "lt-0123", "version": "1"}},
        property_dependencies={"launchTemplate": [template.urn]} if linked else {})
    return [provider, template, group]


def test_every_ebs_volume_of_the_template_is_priced_per_node_and_unknowns_are_unpriced(tmp_path):
    eu_west_1_sheet(tmp_path, {
        "ec2/m6i.large": {"price": 0.107, "unit": "instance-hour", "source": "https://aws.amazon.com/ec2/pricing/"},
        "ebs/gp3": {"price": 0.088, "unit": "GB-month", "source": "https://aws.amazon.com/ebs/pricing/"}})
    sheets = cost.load_sheets(tmp_path)

    def group_line(mappings, linked=True):
        return cost.estimate("s", node_group_with_template(mappings, linked), sheets).estimates[-1]

    root = {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "volumeType": "gp3"}}
    data = {"deviceName": "/dev/xvdb", "ebs": {"volumeSize": 200, "volumeType": "gp3"}}
    line = group_line([root, data, {"deviceName": "/dev/sdc", "virtualName": "ephemeral0"}])
    per_node = 0.107 * 730 + (50 + 200) * 0.088                     # 78.11 + 22.00 per node and month
    assert (round(line.idle or 0, 2), round(line.at_max or 0, 2)) == (round(2 * per_node, 2), round(5 * per_node, 2))
    assert (round(line.idle or 0, 2), round(line.at_max or 0, 2)) == (200.22, 500.55)
    io2 = group_line([{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "volumeType": "io2"}}])
    assert io2.unpriced == "no entry 'ebs/io2' in the price sheet of eu-west-1" and io2.idle is None
    assert "without volumeSize" in (group_line([{"deviceName": "/dev/xvda", "ebs": {"volumeType": "gp3"}}]).unpriced
                                    or "")
    fast = group_line([{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 50, "volumeType": "gp3", "iops": 6000}}])
    assert "above the included 3,000 IOPS" in (fast.unpriced or "")
    assert "maps no EBS volume" in (group_line([]).unpriced or "")
    assert group_line([root], linked=False).unpriced == (
        "launch template lt-0123 is not in the plan: the size and type of its nodes' volumes are unknown")


@pytest.mark.parametrize("entries, problem", [
    ({"nat-gateway": {"price": 0.048, "unit": "gateway-hour"}}, "entry 'nat-gateway' has no source"),
    ({"nat-gateway": {"price": -1, "unit": "h", "source": "s"}}, "has price -1; expected a number >= 0"),
    ({"nat-gateway": {"price": "free", "unit": "h", "source": "s"}}, "has price 'free'"),
])
def test_an_untrustworthy_sheet_is_refused_naming_file_and_entry(tmp_path, entries, problem):
    eu_west_1_sheet(tmp_path, entries)
    with pytest.raises(cost.PriceSheetError, match=problem) as caught:
        cost.load_sheets(tmp_path)
    assert "aws-eu-west-1.yaml" in str(caught.value)


def test_an_entry_priced_twice_for_a_region_is_refused(tmp_path):
    key = {"kms/key": {"price": 1.0, "unit": "key-month", "source": "https://aws.amazon.com/kms/pricing/"}}
    eu_west_1_sheet(tmp_path, key)
    eu_west_1_sheet(tmp_path, key, "aws-eu-west-1-more.yaml")
    with pytest.raises(cost.PriceSheetError, match="'kms/key' is already priced in aws-eu-west-1-more.yaml"):
        cost.load_sheets(tmp_path)


def test_the_repository_sheets_are_dated_sourced_and_cover_every_example_region():
    sheets = cost.default_sheets()
    assert {"eu-west-1", "us-east-1"} <= set(sheets)
    for sheet in sheets.values():
        assert sheet.currency == "USD" and sheet.recorded == "2026-11-22" and sheet.hours_per_month == 730
        for entry in sheet.entries.values():
            assert entry.source.startswith("https://aws.amazon.com/"), entry.key
            assert entry.price > 0 or entry.note, f"{entry.key}: a no-charge entry says why"


def test_mlp_cost_json_carries_the_figures(tmp_path):
    out = tmp_path / "cost.json"
    result = subprocess.run([sys.executable, "-m", "platform_lib.cli", "cost", "--stack", "fraud-dev", "--json",
                             str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "monthly cost of fraud-dev" in result.stdout and "unpriced" in result.stdout
    document = json.loads(out.read_text())
    fraud = document["stacks"]["fraud-dev"]
    assert list(document["stacks"]) == ["fraud-dev"]          # its platform is planned, not costed
    assert (fraud["idleMonthly"], fraud["maxMonthly"], fraud["currency"]) == (6.5, 6.5, "USD")
    assert fraud["priceSheets"] == {"eu-west-1": {"recorded": "2026-11-22", "files": [
        "aws-eu-west-1-services.yaml", "aws-eu-west-1-serving.yaml", "aws-eu-west-1.yaml"]}}
    (dashboard,) = [r for r in fraud["resources"] if r["type"] == "aws:cloudwatch/dashboard:Dashboard"]
    assert (dashboard["idleMonthly"], dashboard["basis"]) == (3.0, "1 × 3 USD per dashboard-month "
                                                                    "(cloudwatch-dashboard)")
    assert fraud["assumptions"] == list(cost.ASSUMPTIONS)


def test_the_plan_summary_has_a_cost_column():
    from rich.console import Console

    from platform_lib.plan.report import summary
    from platform_lib.plan.runner import StackPlan

    plan = StackPlan(stack="s", source="x", kind="platform", environment="dev",
                     resources=resource("aws:ec2/natGateway:NatGateway", {}) + resource(
                         "aws:budgets/budget:Budget", {}))
    console = Console(width=120, record=True)
    console.print(summary([plan]))
    text = console.export_text()
    assert text.splitlines()[2].split()[-1] == "35*"           # 35.04 per month, one resource unpriced
    assert "$/mo: idle–at max, USD, prices of 2026-11-22" in text
