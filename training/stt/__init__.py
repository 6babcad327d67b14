"""STT family: waveform (any sample rate) -> text, Russian and English, CTC over characters."""
