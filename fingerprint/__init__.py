"""Audio fingerprints (audio → landmarks → hashes → signature).

Not implemented yet: this package is filled by the audio-fingerprint issue. Track resolution today uses
metadata only; tracks with ``audio_path`` resolve on their metadata.
"""
