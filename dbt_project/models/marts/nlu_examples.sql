-- NLU training examples: redacted utterance -> intent + slots, one row per distinct example.
-- Split by a hash of the normalized text: the same text never lands in two splits.
-- Real speech recordings (festvox-ru: read literature) are left out: nobody says that to a bank.
with calls as (
    select * from {{ ref('int_calls__redacted') }}
    where transcript is not null and transcript <> '' and not is_real_speech
),

examples as (
    select distinct
        language,
        transcript as text,
        transcript_normalized as text_normalized,
        intent,
        coalesce(slots, '{}') as slots
    from calls
)

select
    {{ dbt.hash("concat(language, '|', text, '|', intent, '|', slots)") }} as example_id,
    text,
    language,
    intent,
    slots,
    {{ assign_split('text', dbt.hash("concat(language, '|', text, '|', intent, '|', slots)")) }} as split
from examples
