-- TTS examples: text + language -> recording. Only calls whose transcript needed no redaction
-- (a placeholder would not match the spoken audio) heard on the clean line (a voice is learnt
-- from the speech, not from codec and noise); real speech included, flagged.
-- Split by a hash of the normalized text.
with audio as (
    select * from {{ ref('int_calls__with_audio') }}
    where
        not transcript_was_redacted and transcript is not null and transcript <> ''
        and is_clean_line
)

select
    call_id,
    transcript as text,
    language,
    audio_path,
    audio_lake_commit,
    speaker,
    is_real_speech,
    duration_s,
    sample_rate,
    {{ assign_split('transcript', 'call_id') }} as split
from audio
