"""A team's own addition that breaks the rules: an unencrypted, world-readable bucket."""

import pulumi_aws as aws

provider = aws.Provider("aws", region="eu-west-1", default_tags={"tags": {"team": "fraud", "env": "prod",
                                                                           "cost-center": "risk"}})
bucket = aws.s3.Bucket("scratch", bucket="fraud-prod-scratch",
                       opts=__import__("pulumi").ResourceOptions(provider=provider))
aws.s3.BucketPublicAccessBlock("scratch-public-access", bucket=bucket.id, block_public_acls=False,
                               block_public_policy=False, ignore_public_acls=False, restrict_public_buckets=False,
                               opts=__import__("pulumi").ResourceOptions(provider=provider))
