"""The base layer: settings, the bot's taxonomy and vocabulary, voices and shared errors.

Every other package may import it; it imports nothing of the project.
"""
