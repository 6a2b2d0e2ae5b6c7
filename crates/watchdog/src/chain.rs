//! [`error_chain`]: an error and its causes on one line, for the messages that leave Rust as
//! text (log lines, events, the addon's JS `Error`s) rather than through `anyhow`'s `{:#}`.

use std::error::Error;

/// `error: cause: cause of the cause`. No error type of this workspace repeats its source in
/// its own message, so each cause appears once.
#[must_use]
pub fn error_chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use memwatchdog_exporter::ExporterError;
    use memwatchdog_profstore::StoreError;

    use super::error_chain;
    use crate::StartError;

    #[test]
    fn every_cause_once_outermost_first() {
        let e = StartError::Server(ExporterError::Bind {
            host: "192.0.2.1".into(),
            port: 9464,
            source: io::Error::other("Cannot assign requested address"),
        });
        let text = error_chain(&e);
        assert_eq!(
            text,
            "cannot start the metrics server: cannot listen on 192.0.2.1:9464: Cannot assign \
             requested address"
        );
        assert_eq!(text.matches("Cannot assign requested address").count(), 1);
    }

    #[test]
    fn a_store_error_keeps_its_hint_and_its_cause() {
        let e = StoreError::Write {
            path: PathBuf::from("/p/x.heapprofile"),
            source: io::Error::from(io::ErrorKind::StorageFull),
        };
        let text = error_chain(&e);
        let cause = io::Error::from(io::ErrorKind::StorageFull).to_string();
        assert_eq!(
            text,
            format!(
                "cannot write /p/x.heapprofile (the disk is full: free space or point \
                 profile.dir elsewhere): {cause}"
            )
        );
        assert_eq!(text.matches(&cause).count(), 1);
    }
}
