# Fixture for tests/unit/infra.tcl: never finishes, so --timeout must stop it.
test "fixture hangs" { after 600000 }
