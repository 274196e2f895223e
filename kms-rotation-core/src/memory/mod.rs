//! Keys in memory: a key source ([`MemorySource`]) and a remediation target ([`MemoryTarget`]),
//! for tests, examples and programs that build records or simulate a run themselves.

mod source;
mod target;

pub use source::MemorySource;
pub use target::{MemoryTarget, WriteCall, WriteMode};
