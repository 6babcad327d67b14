-- Rejected records and recordings (one row per reject; `record` may hold personal data).
with source as (
    -- the same reject can be loaded again with a later commit: keep one copy
    select distinct
        source,
        stream,
        dt,
        reason,
        record,
        lake_path,
        _lake_commit
    from {{ source('raw', 'quarantine') }}
)

{%- set key = [] %}
{%- for column in ['source', 'stream', 'lake_path', '_lake_commit', 'record', 'reason'] %}
    {%- do key.append("coalesce(" ~ column ~ ", '')") %}
{%- endfor %}

select
    {{ dbt.hash("concat(" ~ key | join(", '|', ") ~ ")") }} as quarantine_id,
    source,
    stream,
    cast(dt as date) as quarantined_on,
    reason,
    record,
    lake_path,
    _lake_commit as lake_commit
from source
