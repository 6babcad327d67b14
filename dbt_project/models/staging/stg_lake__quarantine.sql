-- Rejected records and recordings (one row per reject; `record` may hold personal data).
with source as (
    -- the same reject can be loaded again with a later commit: keep one copy
    select distinct source, stream, dt, reason, record, lake_path, _lake_commit
    from {{ source('raw', 'quarantine') }}
)

select
    {{ dbt.hash("concat(coalesce(source, ''), '|', coalesce(stream, ''), '|', coalesce(lake_path, ''), '|', coalesce(_lake_commit, ''), '|', coalesce(record, ''), '|', coalesce(reason, ''))") }} as quarantine_id,
    source,
    stream,
    cast(dt as date) as quarantined_on,
    reason,
    record,
    lake_path,
    _lake_commit as lake_commit
from source
