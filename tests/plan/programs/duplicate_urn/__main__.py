"""Two resources of the same type and name: the Pulumi engine refuses the duplicate URN."""

import pulumi_aws as aws

aws.s3.Bucket("data", bucket="dup-one")
aws.s3.Bucket("data", bucket="dup-two")
