"""A program that calls sys.exit halfway."""

import sys

import pulumi_aws as aws

aws.s3.Bucket("data", bucket="exits-data")
sys.exit(3)
