-- Voice-corpus utterances joined to their WAV in the lake, within the audio bounds; texts the
-- redaction would change are flagged (a studio script names no one, but the mart takes no
-- text that needed redaction, as for calls).
{%- set person_pattern = person_pattern_literal() %}
with utterances as (
    select * from {{ ref('stg_voice_corpus__utterances') }}
),

audio as (
    select * from {{ ref('stg_voice_corpus__audio') }}
    where {{ audio_is_usable() }}
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
