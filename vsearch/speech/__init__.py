"""Speech expert: transcripts of the audio track, searched by words and by meaning."""
