"""mbrlhpo.harness: a benchmark suite of methods x tasks x seeds (issue 25), work in progress.

Done: suite loading and validation (:mod:`~mbrlhpo.harness.suite`), the harness state that
refuses a changed suite (:mod:`~mbrlhpo.harness.state`), the cell runner with winner
re-scoring on held-out test seeds (:mod:`~mbrlhpo.harness.cell`, :mod:`~mbrlhpo.harness.rescore`),
local/process/Ray execution (:mod:`~mbrlhpo.harness.executors`), progress, the long table,
``mbrlhpo bench`` (cli_bench) and ``mbrlhpo.bench``. Not yet: the markdown summary and figures.
"""
