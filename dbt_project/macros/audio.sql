{# The recordings training can use: mono 16-bit WAVs with samples, a sample rate and a length
   within the project's bounds (vars min/max_sample_rate, min/max_audio_duration_s). The
   predicate over a staging audio model's columns. #}
{% macro audio_is_usable() -%}
    channels = 1
    and size_bytes > 44
    and sample_rate between {{ var('min_sample_rate') }} and {{ var('max_sample_rate') }}
    and duration_s between {{ var('min_audio_duration_s') }} and {{ var('max_audio_duration_s') }}
{%- endmacro %}
