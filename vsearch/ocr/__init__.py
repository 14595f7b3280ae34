"""The on-screen text expert: OCR of sampled frames into timed text spans (docs/OCR.md)."""
