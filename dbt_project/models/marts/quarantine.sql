-- Everything rejected at ingestion: why and how much, per source / stream / day / reason.
select
    source,
    stream,
    quarantined_on,
    reason,
    count(*) as rejected_records,
    min(lake_path) as example_lake_path
from {{ ref('int_quarantine__redacted') }}
group by source, stream, quarantined_on, reason
