"""``python -m voiceops.cli``."""

from voiceops.cli import main

main()
