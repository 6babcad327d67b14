-- Redacted calls joined to their recording, when it is in the lake and within the audio bounds.
with calls as (
    select * from {{ ref('int_calls__redacted') }}
),

recordings as (
    select * from {{ ref('stg_lake__recordings') }}
    where {{ audio_is_usable() }}
)

select
    calls.call_id,
    calls.language,
    calls.intent,
    calls.transcript,
    calls.transcript_normalized,
    calls.transcript_was_redacted,
    calls.speaker,
    calls.line,
    calls.is_clean_line,
    calls.is_real_speech,
    calls.is_held_out_voice,
    recordings.lake_path as audio_path,
    recordings.lake_commit as audio_lake_commit,
    recordings.duration_s,
    recordings.sample_rate,
    recordings.channels
from calls
inner join recordings on calls.call_id = recordings.call_id
