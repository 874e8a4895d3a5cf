"""Helpers shared by the rules, one module per concern (every name is re-exported here).

- :mod:`.unknowns`: plain values, unknowns and secrets (:func:`props_of`, :data:`UNKNOWN` ...)
- :mod:`.providers`: inputs of a resource's aws provider (default tags, accounts, region)
- :mod:`.tags`: effective tags, the platform's tag conventions, taggable types
- :mod:`.links`: links between resources (config resource -> bucket, rule -> security group ...)
- :mod:`.iam`: IAM policy documents, statements, action/resource patterns, a role's documents
- :mod:`.s3`: buckets, their config resources, and :class:`BucketCheck` (the S3 rules' skeleton)
"""

from .iam import (
    IDENTITY_POLICY_TYPES,
    POLICY,
    ROLE,
    ROLE_POLICY,
    ROLE_POLICY_ATTACHMENT,
    InvalidPolicyDocument,
    Statement,
    action_covers,
    boundary_policies,
    identity_documents,
    parse_policy_document,
    principal_values,
    resource_covers,
    role_boundary_documents,
    role_documents,
    statements,
    trusted_services,
)
from .links import index_links, linked_targets, of_types, urn_of
from .providers import provider_account_ids, provider_input, provider_region
from .s3 import (
    BUCKET_TYPES,
    LOG_BUCKET_EXEMPTION,
    LOG_BUCKET_PURPOSE,
    BucketCheck,
    Verdict,
    bucket_label,
    buckets_with,
    is_log_bucket,
)
from .tags import (
    ENVIRONMENTS,
    PLATFORM_TEAM,
    PROD,
    PURPOSE_TAG,
    REQUIRED_TAGS,
    ROLE_KIND_TAG,
    EffectiveTags,
    _schema_taggable,
    effective_tags,
    is_taggable,
    provider_default_tags,
    purpose_of,
    resource_env,
    schema_taggable,
)
from .unknowns import (
    SECRET_SIG,
    SPECIAL_SIG_KEY,
    UNKNOWN,
    HasProps,
    as_list,
    as_number,
    display_name,
    is_known,
    is_true,
    is_unknown,
    plain,
    props_of,
)

__all__ = [
    "BUCKET_TYPES", "ENVIRONMENTS", "IDENTITY_POLICY_TYPES", "LOG_BUCKET_EXEMPTION", "LOG_BUCKET_PURPOSE",
    "PLATFORM_TEAM", "POLICY", "PROD", "PURPOSE_TAG", "REQUIRED_TAGS", "ROLE", "ROLE_KIND_TAG", "ROLE_POLICY",
    "ROLE_POLICY_ATTACHMENT", "SECRET_SIG", "SPECIAL_SIG_KEY", "UNKNOWN",
    "BucketCheck", "EffectiveTags", "HasProps", "InvalidPolicyDocument", "Statement", "Verdict",
    "_schema_taggable", "action_covers", "as_list", "as_number", "boundary_policies", "bucket_label",
    "buckets_with", "display_name", "effective_tags", "identity_documents", "index_links", "is_known",
    "is_log_bucket", "is_taggable", "is_true", "is_unknown", "linked_targets", "of_types", "parse_policy_document",
    "plain", "principal_values", "props_of", "provider_account_ids", "provider_default_tags", "provider_input",
    "provider_region", "purpose_of", "resource_covers", "resource_env", "role_boundary_documents",
    "role_documents", "schema_taggable", "statements", "trusted_services", "urn_of",
]
