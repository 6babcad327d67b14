-- Voice-corpus utterances joined to their WAV in the lake, within the audio bounds; texts the
-- redaction would change are flagged (a studio script names no one, but the mart takes no
-- text that needed redaction, as for calls).
{%- set person_pattern = person_pattern_literal() %}
with utterances as (
    select * from {{ ref('stg_voice_corpus__utterances') }}
),

audio as (
    select * from {{ ref('stg_voice_corpus__audio') }}
    where
        channels = 1
        and size_bytes > 44
        and sample_rate between {{ var('min_sample_rate') }} and {{ var('max_sample_rate') }}
        and duration_s between {{ var('min_audio_duration_s') }} and {{ var('max_audio_duration_s') }}
)

select
    utterances.utterance_id,
    utterances.text,
    {{ redact_pii('utterances.text', person_pattern) }} <> utterances.text as text_was_redacted,
    utterances.language,
    utterances.speaker,
    utterances.is_real_speech,
    utterances.script,
    audio.lake_path as audio_path,
    audio.lake_commit as audio_lake_commit,
    audio.duration_s,
    audio.sample_rate
from utterances
inner join audio on utterances.utterance_id = audio.utterance_id
