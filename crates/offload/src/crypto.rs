//! [`install_crypto`]: ring as the process's rustls crypto provider, for the store's HTTPS
//! connections and the agent's webhook client alike (reqwest is built with rustls and no
//! bundled provider, so that the one crypto stack of `mw` is ring, as in the exporter's ureq).

/// Installs ring as the process-wide rustls provider, once; later calls do nothing.
pub fn install_crypto() {
    // Err means a provider is installed already: the first one stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
