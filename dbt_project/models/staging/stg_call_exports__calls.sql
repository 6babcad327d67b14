-- Calls: typed, slots parsed, one row per call (the first delivery), speaker flags derived.
with source as (
    select * from {{ source('raw', 'call_exports_calls') }}
),

renamed as (
    select
        call_id,
        customer_id,
        customer_key,
        cast(started_at as timestamp with time zone) as started_at,
        lower(language) as language,
        channel,
        cast(duration_s as double precision) as duration_s,
        transcript,
        intent,
        {{ json_normalize('slots') }} as slots,
        {%- for slot in ['account_type', 'card_last4', 'amount', 'currency', 'recipient', 'date', 'period', 'city'] %}
            {{ json_get_text('slots', slot) }} as slot_{{ slot }},
        {%- endfor %}
        bot_response,
        nullif(recording, '') as recording,
        speaker,
        cast(sample_rate as integer) as sample_rate,
        line,
        _lake_commit as lake_commit,
        _lake_path as lake_path
    from source
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by call_id order by started_at, lake_path, lake_commit
        ) as delivery_rank
    from renamed
)

select
    call_id, customer_id, customer_key, started_at, language, channel, duration_s, transcript, intent, slots,
    slot_account_type, slot_card_last4, slot_amount, slot_currency, slot_recipient, slot_date,
    slot_period, slot_city, bot_response, recording, speaker, sample_rate, line,
    line = '{{ var("clean_line") }}' as is_clean_line,
    speaker like '{{ var("real_speech_speaker_prefix") }}%' as is_real_speech,
    (
        {%- for voice in var('held_out_voices') %}
            speaker like '{{ voice }}'{% if not loop.last %} or{% endif %}
        {%- endfor %}
    ) as is_held_out_voice,
    lake_commit, lake_path
from deduplicated
where delivery_rank = 1
