-- The voice corpus holds festvox-ru's train sentences only (core.splits.real_speech_split):
-- ingestion quarantines the others; this fails if one got through.
select
    utterance_id,
    text
from {{ ref('stg_voice_corpus__utterances') }}
where is_real_speech and {{ assign_real_speech_split('text') }} <> 'train'
