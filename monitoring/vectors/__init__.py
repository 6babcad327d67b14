"""NLU utterance embeddings in a vector index: one interface, Qdrant local or server."""
