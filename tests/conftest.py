"""Set-up shared by every test module."""

import sys

import absl.logging

# absl (imported by TensorFlow) binds its logging handler to the stderr of the moment it is
# imported, which under pytest is a capture stream. When a Dagster job starts it runs
# logging.config.dictConfig, which closes every handler's stream: pytest's capture is then
# closed and each following test fails with "I/O operation on closed file". Bound to the
# process's real stderr, absl leaves it open (it never closes sys.__stderr__).
absl.logging.get_absl_handler().python_handler.stream = sys.__stderr__
