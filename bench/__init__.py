"""tlsward benchmarks: each item is a module with a ``run(ctx)`` function (``bench/run.sh 1 2 3``)."""
