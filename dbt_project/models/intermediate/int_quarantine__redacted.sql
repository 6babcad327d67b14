-- Rejected records with their raw record redacted (the quarantine mart must not leak personal data).
{%- set person_pattern = person_pattern_literal() %}
with rejects as (
    select * from {{ ref('stg_lake__quarantine') }}
)

select
    rejects.quarantine_id,
    rejects.source,
    rejects.stream,
    rejects.quarantined_on,
    rejects.reason,
    {{ redact_pii('rejects.record', person_pattern) }} as record,
    rejects.lake_path,
    rejects.lake_commit
from rejects
