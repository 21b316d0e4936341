"""The image benchmark: Heritage Lab against Debian's iipsrv on one large scan.

Run it as ``python bench/image_bench.py``; this package holds its parts, one job per module:
``source`` (the large image and its pyramid), ``servers`` (starting and stopping processes),
``tiles`` (OpenSeadragon-style tile URLs and the seeded request mix), ``load`` (wrk runs) and
``report`` (the table and the JSON record).
"""
