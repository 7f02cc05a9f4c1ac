//! `eea-coverage console`: prints the link that signs a browser into the web console with the
//! caller's token. The token travels in the URL fragment, which a browser never sends to a server,
//! so it shows up in no access log; the console's script keeps it for the tab and removes the
//! fragment from the address bar at once.

use std::path::PathBuf;

use crate::auth::client_token;
use crate::config::DEFAULT_TOKEN_FILE;

#[derive(clap::Args)]
pub struct ConsoleArgs {
    /// Where the server's HTTP listener (http.listen) is reached.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The bearer token [env: EEA_COVERAGE_TOKEN; default: the file a local server wrote].
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Where a server on this machine wrote its generated admin token.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_TOKEN_FILE)]
    token_file: PathBuf,
}

/// The sign-in link for `args`, or why there is none.
pub fn run_console(args: &ConsoleArgs) -> Result<String, String> {
    let token = client_token(args.token.as_deref(), std::env::var("EEA_COVERAGE_TOKEN").ok(), &args.token_file)
        .ok_or_else(|| {
            format!(
                "no token: pass --token, set EEA_COVERAGE_TOKEN, or run on the server's machine (it writes {})",
                args.token_file.display()
            )
        })?;
    if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
        return Err(format!("--url {:?}: expected an http:// or https:// address", args.url));
    }
    Ok(sign_in_link(&args.url, &token))
}

/// The sign-in link `eea-coverage console` prints: the console at `base` with the token in the
/// URL fragment, which a browser keeps to itself (it is never sent to a server nor logged by
/// one). The token is percent-encoded as a form value, as the console's script reads it.
pub fn sign_in_link(base: &str, token: &str) -> String {
    let mut encoded = String::with_capacity(token.len());
    for byte in token.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{}/#token={encoded}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_link_carries_the_token_in_the_fragment_percent_encoded() {
        assert_eq!(sign_in_link("http://127.0.0.1:8080/", "abc-123"), "http://127.0.0.1:8080/#token=abc-123");
        assert_eq!(sign_in_link("https://h", "a+b/c= d"), "https://h/#token=a%2Bb%2Fc%3D%20d");
    }
}
