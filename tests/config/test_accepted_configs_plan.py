"""Every config the schema accepts must plan: stack files at the edges of what the schema allows
(the longest team name, 6 AZs in /22s, three regions with the longest region codes, no NAT, the
shortest and longest lifecycles and retentions) plan without errors or mandatory violations."""

from pathlib import Path

from platform_lib.plan.runner import plan_stacks

EDGE = Path(__file__).parent / "edge"


def test_configs_at_the_edges_of_the_schema_plan():
    paths = sorted(EDGE.glob("Pulumi.*.yaml"))
    plans = plan_stacks(paths, jobs=1)
    assert [(p.stack, p.error, [v.as_json() for v in p.mandatory]) for p in plans] == [
        ("a-b-prod", None, []),
        ("abcdefghijklmnopqrst-staging", None, []),
        ("platform-prod", None, []),
        ("platform-staging", None, []),
    ]
    staging = {p.stack: p for p in plans}["platform-staging"]
    subnets = [r for r in staging.resources if r.type == "aws:ec2/subnet:Subnet"]
    assert len(subnets) == 3 * 6 * 2  # three regions, six AZs, a private and a public subnet each
    assert not [r for r in staging.resources if r.type == "aws:ec2/natGateway:NatGateway"]
