"""The voice-bot API: turns through STT, NLU, dialogue, NLG and TTS."""
