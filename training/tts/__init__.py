"""TTS family: characters + language -> log-mel (FastSpeech-like) -> waveform (Griffin-Lim)."""
