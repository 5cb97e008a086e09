# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# bats-support, bats-assert and bats-file, from Debian's packages.  Their
# load.bash files run dirname once for each file they source, and bats
# sources a test file again for every test: those 17 forks cost a third of
# a second per test on a busy 2-core machine, over a minute of make check.
# Their src/ files only define functions, so they are sourced directly.

for lib in /usr/lib/bats/bats-support /usr/lib/bats/bats-assert \
	/usr/lib/bats/bats-file; do
	for f in "$lib"/src/*.bash; do
		# shellcheck source=/dev/null
		source "$f"
	done
done
unset lib f
