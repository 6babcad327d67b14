-- No real human sentence (festvox-ru) is in a TTS split other than the one
-- core.splits.real_speech_split gives it (test_real as test): its validation and test
-- sentences score STT and TTS, so none of them may be trained on, from calls or the corpus.
select
    example_id,
    source,
    text,
    split
from {{ ref('tts_examples') }}
where
    is_real_speech
    and split <> replace({{ assign_real_speech_split('text') }}, 'test_real', 'test')
