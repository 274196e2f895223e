//! The AWS source (issue 3): being written.
