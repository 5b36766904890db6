"""The audio core: a delivery's audio → a compact fingerprint → whether two deliveries carry one recording.

``audio`` decodes any delivery to mono at the analysis rate; ``landmarks`` finds spectrogram peaks and hashes
triplets of them; ``signature`` holds a recording's hashes (and their MinHash for LSH); ``match`` verifies a
pair; ``index`` searches many. Pure: it reads only the files or bytes a caller hands to ``audio.decode``.
The seeded test songs and distortions live apart, in ``fingerprint.synthetic``.
"""
