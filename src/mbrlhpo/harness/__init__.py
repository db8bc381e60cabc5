"""mbrlhpo.harness: a benchmark suite of methods x tasks x seeds (issue 25).

Suite loading and validation (:mod:`~mbrlhpo.harness.suite`), the harness state that
refuses a changed suite (:mod:`~mbrlhpo.harness.state`), the cell runner with winner
re-scoring on held-out test seeds (:mod:`~mbrlhpo.harness.cell`, :mod:`~mbrlhpo.harness.rescore`),
local/process/Ray execution (:mod:`~mbrlhpo.harness.executors`), progress, the long table,
the summary with its figures (:mod:`~mbrlhpo.harness.summary`, :mod:`~mbrlhpo.harness.scores`,
:mod:`~mbrlhpo.harness.figures`), ``mbrlhpo bench`` (cli_bench) and ``mbrlhpo.bench``.
"""
