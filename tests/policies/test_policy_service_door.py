"""The serving load balancers' rule: compliant, non-compliant and unknown inputs."""

from __future__ import annotations

import pytest

from policies.rules.elb_network_load_balancer_internal import RULE as INTERNAL

NLB = "aws:lb/loadBalancer:LoadBalancer"


def nlb(**props):
    return {"name": "vision-prod-defects-euw1", "loadBalancerType": "network", "internal": True,
            "subnets": ["subnet-1", "subnet-2"], **props}


def test_internal_network_load_balancer_is_compliant(kit):
    assert kit.run(INTERNAL, kit.args(NLB, nlb())) == []


@pytest.mark.parametrize("internal", [False, None])
def test_internet_facing_network_load_balancer_is_reported(kit, internal):
    props = nlb(internal=internal)
    if internal is None:
        del props["internal"]                      # the provider's default: internet-facing
    [(message, _)] = kit.run(INTERNAL, kit.args(NLB, props))
    assert message.startswith("network load balancer 'vision-prod-defects-euw1' is internet-facing")
    assert "required: internal=true" in message


def test_the_alb_module_spelling_is_checked_too(kit):
    assert kit.run(INTERNAL, kit.args("aws:alb/loadBalancer:LoadBalancer", nlb(internal=False)))


def test_application_load_balancers_and_unknown_values_are_left_alone(kit):
    assert kit.run(INTERNAL, kit.args(NLB, nlb(loadBalancerType="application", internal=False))) == []
    assert kit.run(INTERNAL, kit.args(NLB, nlb(internal=kit.unknown_bool))) == []
