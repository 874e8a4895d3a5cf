"""A model's door as someone might hand-write it: an NLB in front of serving pods, with everything right
except that it is internet-facing (internal unset)."""

import pulumi
import pulumi_aws as aws

provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {"team": "vision", "env": "prod",
                                                                           "cost-center": "cv"}})
opts = pulumi.ResourceOptions(provider=provider)
group = aws.ec2.SecurityGroup("door-sg", vpc_id="vpc-0123456789abcdef0", description="serving NLB", opts=opts)
nlb = aws.lb.LoadBalancer("public-door", name="vision-prod-door", load_balancer_type="network",
                          subnets=["subnet-0a", "subnet-0b"], security_groups=[group.id], opts=opts)
targets = aws.lb.TargetGroup("door-targets", name="vision-prod-door", target_type="ip", protocol="TCP", port=8080,
                             vpc_id="vpc-0123456789abcdef0",
                             health_check={"protocol": "HTTP", "path": "/ping", "matcher": "200"}, opts=opts)
aws.lb.Listener("door-listener", load_balancer_arn=nlb.arn, port=80, protocol="TCP",
                default_actions=[{"type": "forward", "target_group_arn": targets.arn}], opts=opts)
