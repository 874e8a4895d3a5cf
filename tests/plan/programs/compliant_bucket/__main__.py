"""A team's own addition built from the blueprint's SecureBucket: compliant as it stands."""

import pulumi
import pulumi_aws as aws

from infra.components.bucket import BucketSpec, SecureBucket

provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {"team": "fraud", "env": "prod",
                                                                           "cost-center": "risk"}})
key = aws.kms.Key("scratch-key", enable_key_rotation=True, opts=pulumi.ResourceOptions(provider=provider, protect=True))
SecureBucket("fraud-prod-scratch", BucketSpec(
    purpose="scratch", bucket_name="fraud-prod-scratch-222222222222-euw1", kms_key_arn=key.arn,
    log_bucket="fraud-prod-logs-222222222222-euw1", protect=True,
    lifecycle_rules=[{"id": "scratch-expiry", "status": "Enabled", "filter": {}, "expiration": {"days": 30},
                      "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}],
), opts=pulumi.ResourceOptions(provider=provider))
