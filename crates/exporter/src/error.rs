//! [`ExporterError`]: everything that can go wrong when starting the exporter's parts.
//!
//! Messages name things as a Rust caller knows them (a host and port, a URL, a config
//! field); a caller with its own vocabulary (the addon speaks in JS option names) adds it.
//! Nothing here is returned once a part runs: a running server or alerter reports
//! trouble through its log hook and counters, never through the caller.

use std::io;

/// An error starting the metrics server or the alert client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExporterError {
    /// The metrics port is taken by another socket.
    #[error("port {port} on {host} is already in use")]
    PortInUse {
        /// Host the server tried to listen on.
        host: String,
        /// Port that was taken.
        port: u16,
    },

    /// The host does not name a local address (or the OS refused to bind it).
    #[error("cannot listen on {host}:{port}")]
    Bind {
        /// Host the server tried to listen on.
        host: String,
        /// Port requested.
        port: u16,
        /// What the OS said.
        #[source]
        source: io::Error,
    },

    /// The Alertmanager URL is unusable.
    #[error("{url:?} is not an http:// or https:// base URL like http://alertmanager:9093")]
    BadUrl {
        /// The URL as given, credentials masked ([`crate::redact_url`]).
        url: String,
    },

    /// A label name is not a valid Prometheus label name.
    #[error(
        "label name {name:?} is invalid: use letters, digits and underscores, not starting \
         with a digit or \"__\""
    )]
    BadLabelName {
        /// The offending name.
        name: String,
    },

    /// A setting has a value that cannot work.
    #[error("{setting} {problem}")]
    BadSetting {
        /// Which setting (e.g. `AlerterConfig::max_queue`).
        setting: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// The OS refused to start a thread.
    #[error("cannot start the {name} thread")]
    Thread {
        /// Name of the thread.
        name: &'static str,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

/// Whether `name` is a valid Prometheus label name that is not reserved (`__` prefix).
pub(crate) fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// Checks one label name a user gives (a constant label, a renamed `service` label).
///
/// # Errors
/// [`ExporterError::BadLabelName`] when it is not a valid Prometheus label name.
pub fn check_label_name(name: &str) -> Result<(), ExporterError> {
    if is_valid_label_name(name) {
        Ok(())
    } else {
        Err(ExporterError::BadLabelName {
            name: name.to_owned(),
        })
    }
}

/// Checks every name, returning the first bad one as an error.
pub(crate) fn check_label_names<'a>(
    names: impl IntoIterator<Item = &'a String>,
) -> Result<(), ExporterError> {
    names
        .into_iter()
        .try_for_each(|name| check_label_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names() {
        for ok in ["service", "instance", "_x", "a1_b"] {
            assert!(is_valid_label_name(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "__name__", "é", "a b"] {
            assert!(!is_valid_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn port_in_use_message_names_host_and_port() {
        let e = ExporterError::PortInUse {
            host: "127.0.0.1".into(),
            port: 9469,
        };
        assert_eq!(e.to_string(), "port 9469 on 127.0.0.1 is already in use");
    }
}
