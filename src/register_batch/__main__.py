from register_batch.cli import main

try:
    main()
finally:
    # CPython notes a KeyboardInterrupt raised inside any exec() of a string (dataclasses builds methods so while
    # modules are imported) as unhandled, even once caught: `python -m` then ends the process by SIGINT (exit -2)
    # instead of its exit code, and a SIGTERM at start-up gave -2 after its "interrupted" line. An exec() of a string
    # clears that note (pythonrun.c, run_eval_code_obj); a KeyboardInterrupt that does leave main() is noted again
    # as it leaves. The `register-batch` script runs as a file, which exits before the note is read.
    exec("None")
