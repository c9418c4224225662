"""The grader's parts, one module per idea (the command line and the design notes are in utils/grade.py).

* ``submissions``: naming rule, reading untrusted notebooks, picking the cells to run;
* ``sandbox``: the warm zygote per slot, limits, isolation, safe reading of the child's files;
* ``zygote``: the process that forks the sandboxed children (run as a script, never imported);
* ``runner``: one submission — attempts, timeouts, judging in the grader's process;
* ``gradebook``: grades.csv, feedback/ID.md, the summary, merging shards.

Introduced with the grader (issue 7).
"""
