# Fixture for tests/unit/infra.tcl: the worker process dies in the middle of the file.
test "fixture before crash" { assert 1 }
exit 7
