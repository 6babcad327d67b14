-- Voice-corpus utterances (studio deliveries' manifests): typed, one row per utterance id
-- (the latest delivery), real speech flagged.
with source as (
    select * from {{ source('raw', 'voice_corpus_utterances') }}
),

renamed as (
    select
        utterance_id,
        text,
        lower(language) as language,
        speaker,
        audio_file,
        cast(sample_rate as integer) as sample_rate,
        cast(duration_s as double precision) as duration_s,
        script,
        cast(nullif(substr(split_part(_lake_path, 'dt=', 2), 1, 10), '') as date) as delivered_on,
        _lake_commit as lake_commit,
        _lake_path as lake_path
    from source
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by utterance_id order by delivered_on desc, lake_path desc, lake_commit desc
        ) as delivery_rank
    from renamed
)

select
    utterance_id,
    text,
    language,
    speaker,
    audio_file,
    sample_rate,
    duration_s,
    script,
    speaker like '{{ var("real_speech_speaker_prefix") }}%' as is_real_speech,
    delivered_on,
    lake_commit,
    lake_path
from deduplicated
where delivery_rank = 1
