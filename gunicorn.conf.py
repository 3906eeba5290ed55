"""gunicorn settings shared by the Procfile and the benchmark (`gunicorn -c gunicorn.conf.py`).

Command-line flags still win over these, as usual with gunicorn.
"""

import gc

workers = 2
threads = 4


def post_worker_init(worker):
    """Everything loaded so far (the app, SQLAlchemy's mappers, the libraries) lives as long as
    the worker: keep it out of the cyclic collector's full passes. Without this a full
    collection walked some 150,000 objects and paused every thread of the worker for about
    100 ms every few thousand requests; with it, under 1 ms."""
    gc.freeze()
