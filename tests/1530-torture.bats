#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# Crash torture, the short run (SPEC promises 1 and 2): producers, pop,
# lease and exec consumers and wq-serve killed with SIGKILL at random for
# 15 seconds, then tests/torture/torture.py proves that nothing reported
# was lost, nothing torn was read, nothing acked came back and nothing
# needs repair.  `make torture` runs it for ten minutes.

load helpers

setup() {
	common_setup
}

@test "torture: 15 s of random SIGKILLs over a mixed workload lose nothing" {
	# The seed is printed, so that a failure can be replayed.
	local seed=$((RANDOM * 32768 + RANDOM))
	TMPDIR=$BATS_TEST_TMPDIR run "$BATS_TEST_DIRNAME/torture/torture.py" \
		--seconds 15 --seed "$seed" --bin "$BUILD_DIR" --min-kills 15
	echo "seed $seed"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"lost=0 torn=0 after_ack=0 quarantined=0"* ]]
}

@test "torture: the checker sees a message lost or changed in the spool" {
	TMPDIR=$BATS_TEST_TMPDIR run "$BATS_TEST_DIRNAME/torture/torture.py" \
		--seconds 3 --bin "$BUILD_DIR" --sabotage lose
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"torture: FAIL lost: batch "* ]]
	TMPDIR=$BATS_TEST_TMPDIR run "$BATS_TEST_DIRNAME/torture/torture.py" \
		--seconds 3 --bin "$BUILD_DIR" --sabotage tear
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"torture: FAIL torn or foreign body: batch "* ]]
}
