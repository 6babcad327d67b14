"""NLU family: text -> intent (+ confidence) and slots, for Russian and English."""
