//! The log hook: how the exporter's threads tell the host program about trouble.
//!
//! The threads never print. They call a [`LogFn`] the embedder supplies (the napi
//! addon forwards it to the JS logger). A hook that panics is contained, so a
//! faulty hook cannot take a sender or server thread down.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// A log sink, called from the exporter's own threads with one line, no newline.
pub type LogFn = Arc<dyn Fn(&str) + Send + Sync>;

/// Calls `hook` with `line`, swallowing any panic from it.
pub(crate) fn emit(hook: Option<&LogFn>, line: &str) {
    if let Some(hook) = hook {
        let _ = catch_unwind(AssertUnwindSafe(|| hook(line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_hook_is_contained() {
        let hook: LogFn = Arc::new(|_| panic!("boom"));
        emit(Some(&hook), "hello");
        emit(None, "nobody listens");
    }
}
