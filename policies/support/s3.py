"""S3: buckets, the separate configuration resources that target them, and the bucket-check skeleton.

Every S3 stack rule has the same shape: find each bucket's configuration resources of some types
(linked through their ``bucket`` input), judge each one, and report the bucket when none exists or
the first configuration when none is compliant. :class:`BucketCheck` is that shape once; a rule
only says which types it reads, how it judges one of them, and what is required.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from .links import index_links, of_types
from .tags import PURPOSE_TAG, purpose_of
from .unknowns import UNKNOWN, display_name

BUCKET_TYPES: tuple[str, ...] = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
"""Bucket tokens: ``Bucket`` and its legacy alias ``BucketV2`` (both still exist in 7.51.1)."""

LOG_BUCKET_PURPOSE = "logs"
"""``ml-platform/purpose`` value of buckets that receive logs (S3 access logs, flow logs...)."""

LOG_BUCKET_EXEMPTION = f"buckets tagged {PURPOSE_TAG}={LOG_BUCKET_PURPOSE} are exempt"


def is_log_bucket(bucket: Any) -> bool:
    """Whether the bucket is a log bucket (effective tag ``ml-platform/purpose=logs``)."""
    return purpose_of(bucket) == LOG_BUCKET_PURPOSE


def buckets_with(resources: Sequence[Any], config_types: Iterable[str]) -> list[tuple[Any, list[Any]]]:
    """Each bucket with the config resources (of ``config_types``) that target it via ``bucket``.

    Config resources name their bucket in the ``bucket`` input (the bucket's name, which is also
    its id); see :func:`~policies.support.links.linked_targets` for how they are matched.
    """
    buckets = of_types(resources, BUCKET_TYPES)
    links = index_links(of_types(resources, config_types), "bucket", buckets,
                        match_props=("bucket", "id"))
    return [(bucket, links[bucket.urn]) for bucket in buckets]


def bucket_label(bucket: Any) -> str:
    """``bucket 'fraud-dev-raw'`` (its name when known, else its logical name)."""
    return f"bucket '{display_name(bucket, 'bucket')}'"


Verdict = Any
"""``None`` when compliant, :data:`UNKNOWN` when undecidable at preview, else what is wrong (a phrase
that follows the bucket's label, e.g. ``"has versioning status 'Suspended'"``)."""


@dataclass(frozen=True)
class BucketCheck:
    """A stack rule over every bucket and its configuration resources of ``config_types``.

    ``judge(config, bucket)`` gives the verdict of one configuration resource; a bucket passes when
    one of them is compliant or undecidable. Without any, the bucket passes only if ``inline_ok``
    (the deprecated inline argument of the bucket is compliant). ``exempt`` skips buckets (e.g. log
    buckets); ``required`` says what is allowed, per bucket.
    """

    config_types: tuple[str, ...]
    missing: str
    required: Callable[[Any], str]
    judge: Callable[[Any, Any], Verdict]
    inline_ok: Callable[[Any], bool] | None = None
    exempt: Callable[[Any], bool] | None = None

    def validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        """Report each bucket without a compliant configuration (on the bucket, or its first config)."""
        for bucket, configs in buckets_with(args.resources, self.config_types):
            if self.exempt is not None and self.exempt(bucket):
                continue
            verdicts = [self.judge(config, bucket) for config in configs]
            if None in verdicts or UNKNOWN in verdicts:
                continue
            if not configs and self.inline_ok is not None and self.inline_ok(bucket):
                continue
            required = self.required(bucket)
            if not configs:
                report_violation(f"{bucket_label(bucket)} has no {self.missing}; required: {required}",
                                 bucket.urn)
            else:
                report_violation(f"{bucket_label(bucket)} {verdicts[0]}; required: {required}",
                                 configs[0].urn)
