# Fixture for tests/unit/infra.tcl: a test file with known results, run through ./runtest.
# Expected: 2 passed, 2 failed, 1 skipped (with --tags -slowfixture, one test fewer passes).
test "fixture passes" { assert_equal 1 1 }
test "fixture fails" { assert_equal 1 2 }
test "fixture skips" { skip "skipped on purpose" }
test "fixture raises" { error "boom" }
test "fixture tagged" { assert 1 } undefined {slowfixture}
