//! [`redact_url`]: a URL as it may be logged, shown or put in an error message, without the
//! credentials it may carry (`http://user:password@alertmanager:9093`).

/// `url` with its password masked (`user:***@host`), or its whole user part when there is
/// no password (`***@host`: a bare token is as secret as a password). A URL without
/// credentials comes back unchanged.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let masked = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:***"),
        None => "***".to_owned(),
    };
    format!("{}{masked}{}", &url[..scheme_end], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_are_masked_and_the_rest_kept() {
        for (url, shown) in [
            ("http://user:s3cret@am:9093", "http://user:***@am:9093"),
            (
                "https://user:s3cret@am/api/v2/alerts",
                "https://user:***@am/api/v2/alerts",
            ),
            ("http://tok3n@am:9093/x", "http://***@am:9093/x"),
            ("http://user:p@ss@am:9093", "http://user:***@am:9093"),
            ("http://am:9093/path@x", "http://am:9093/path@x"),
            ("http://am:9093", "http://am:9093"),
            ("am:9093", "am:9093"),
            ("", ""),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
