-- Voice-corpus WAVs in the lake: typed, one row per utterance (the latest day / commit).
with source as (
    select * from {{ source('raw', 'voice_corpus_audio') }}
),

renamed as (
    select
        utterance_id,
        lake_path,
        cast(size_bytes as bigint) as size_bytes,
        cast(sample_rate as integer) as sample_rate,
        cast(channels as integer) as channels,
        cast(sample_width as integer) as sample_width,
        cast(duration_s as double precision) as duration_s,
        cast(dt as date) as landed_on,
        _lake_commit as lake_commit
    from source
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by utterance_id order by landed_on desc, lake_commit desc, lake_path desc
        ) as version_rank
    from renamed
)

select
    utterance_id,
    lake_path,
    size_bytes,
    sample_rate,
    channels,
    sample_width,
    duration_s,
    landed_on,
    lake_commit
from deduplicated
where version_rank = 1
