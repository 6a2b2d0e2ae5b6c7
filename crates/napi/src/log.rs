//! The log hook handed to the exporter's threads: forwards a line to the JS logger.
//!
//! It is a *weak* thread-safe function (it does not keep the event loop alive) called in
//! non-blocking mode (a blocked JS thread never blocks a Rust thread; lines wait in
//! N-API's queue and are logged when JS runs again). When JS gives no logger, lines go
//! to stderr with the `[memwatchdog]` prefix.

use std::sync::Arc;

use memwatchdog_exporter::LogFn;
use napi::Result;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;

/// Makes the exporter's log hook from the JS logger, if any.
pub(crate) fn hook(logger: Option<&Function<'_, String, ()>>) -> Result<LogFn> {
    let Some(logger) = logger else {
        return Ok(Arc::new(|line: &str| eprintln!("[memwatchdog] {line}")));
    };
    let tsfn = logger
        .build_threadsafe_function::<String>()
        .weak::<true>()
        .callee_handled::<false>()
        .build()?;
    Ok(Arc::new(move |line: &str| {
        tsfn.call(line.to_owned(), ThreadsafeFunctionCallMode::NonBlocking);
    }))
}
