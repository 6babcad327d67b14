-- Recordings in the lake: typed, one row per call (the latest day / commit).
with source as (
    select * from {{ source('raw', 'recordings') }}
),

renamed as (
    select
        call_id,
        lake_path,
        cast(size_bytes as bigint) as size_bytes,
        cast(sample_rate as integer) as sample_rate,
        cast(channels as integer) as channels,
        cast(sample_width as integer) as sample_width,
        cast(duration_s as double precision) as duration_s,
        cast(dt as date) as recorded_on,
        _lake_commit as lake_commit
    from source
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by call_id order by recorded_on desc, lake_commit desc, lake_path desc
        ) as version_rank
    from renamed
)

select
    call_id,
    lake_path,
    size_bytes,
    sample_rate,
    channels,
    sample_width,
    duration_s,
    recorded_on,
    lake_commit
from deduplicated
where version_rank = 1
