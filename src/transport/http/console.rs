//! The managers' web console: one HTML shell, one style sheet and one JavaScript module, built
//! into the binary (no CDN, nothing fetched at run time, no JavaScript build step).
//!
//! The shell is served at `/` and never cached without asking again; the style sheet and the
//! script at `/console/<name>.<hash>.<ext>`, where the hash is the start of the SHA-256 of their
//! content, cached for a year as immutable. Each is served gzip-compressed to a client that
//! accepts it. The shell's Content-Security-Policy allows scripts, styles and calls from this
//! origin only, so no inline script or style can run.

use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use http::{Method, StatusCode};
use http_body_util::Full;
use sha2::{Digest, Sha256};

/// The path of the console's shell.
pub const SHELL_PATH: &str = "/";

/// The prefix of the console's hashed assets.
pub const ASSET_PREFIX: &str = "/console/";

/// The shell's Content-Security-Policy: everything from this origin only, nothing inline.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The assets the shell refers to: file name, content type, content.
const SOURCES: [(&str, &str, &[u8]); 2] = [
    ("console.css", "text/css; charset=utf-8", include_bytes!("console/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_bytes!("console/console.js")),
];

const SHELL_TEMPLATE: &str = include_str!("console/index.html");

/// One file of the console, as served: identity and gzip.
struct Asset {
    content_type: &'static str,
    identity: Bytes,
    gzip: Bytes,
}

impl Asset {
    fn new(content_type: &'static str, content: Vec<u8>) -> Asset {
        let gzip = gzip(&content);
        Asset { content_type, identity: Bytes::from(content), gzip }
    }
}

struct Console {
    shell: Asset,
    /// The hashed name (`console.<hash>.css`) of each asset, and the asset.
    assets: Vec<(String, Asset)>,
}

fn console() -> &'static Console {
    static CONSOLE: OnceLock<Console> = OnceLock::new();
    CONSOLE.get_or_init(|| {
        let mut shell = SHELL_TEMPLATE.to_owned();
        let mut assets = Vec::with_capacity(SOURCES.len());
        for (name, content_type, content) in SOURCES {
            let hashed = hashed_name(name, content);
            shell = shell.replace(&format!("{{{{{name}}}}}"), &hashed);
            assets.push((hashed, Asset::new(content_type, content.to_vec())));
        }
        assert!(!shell.contains("{{"), "every asset the console's shell names is built in");
        Console { shell: Asset::new("text/html; charset=utf-8", shell.into_bytes()), assets }
    })
}

/// `console.js` with content `content` becomes `console.<first 16 hex digits of SHA-256>.js`.
fn hashed_name(name: &str, content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let hash: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    match name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
        None => format!("{name}.{hash}"),
    }
}

fn gzip(content: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(content).expect("compressing into memory");
    Bytes::from(encoder.finish().expect("compressing into memory"))
}

/// Whether an `Accept-Encoding` header accepts gzip (by name or `*`, with a weight above zero).
fn accepts_gzip(headers: &http::HeaderMap) -> bool {
    headers.get_all(http::header::ACCEPT_ENCODING).iter().filter_map(|value| value.to_str().ok()).any(|value| {
        value.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|parameter| {
                parameter.strip_prefix("q=").is_some_and(|weight| weight.parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

/// Whether `path` is the console's: the shell or under the assets' prefix.
pub fn is_console_path(path: &str) -> bool {
    path == SHELL_PATH || path.starts_with(ASSET_PREFIX)
}

/// The answer to a request for one of the console's paths (see [`is_console_path`]).
pub fn answer(method: &Method, path: &str, headers: &http::HeaderMap) -> http::Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "the console answers GET only\n");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let console = console();
    let (asset, cache_control) = if path == SHELL_PATH {
        (&console.shell, "no-cache")
    } else {
        let name = &path[ASSET_PREFIX.len()..];
        match console.assets.iter().find(|(hashed, _)| hashed == name) {
            Some((_, asset)) => (asset, IMMUTABLE),
            None => return plain(StatusCode::NOT_FOUND, "no such file of the console\n"),
        }
    };
    let compressed = accepts_gzip(headers);
    let body = if compressed { asset.gzip.clone() } else { asset.identity.clone() };
    let mut response = http::Response::new(Full::new(body));
    let response_headers = response.headers_mut();
    response_headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    response_headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if compressed {
        response_headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    secure(response_headers);
    response
}

/// The headers every answer of the console carries.
fn secure(headers: &mut http::HeaderMap) {
    headers.insert("content-security-policy", HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
}

fn plain(status: StatusCode, text: &'static str) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    secure(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_names_every_asset_by_its_hash_and_holds_no_inline_script_or_style() {
        let shell = std::str::from_utf8(&console().shell.identity).unwrap();
        for (hashed, _) in &console().assets {
            assert!(shell.contains(&format!("{ASSET_PREFIX}{hashed}")), "{hashed}");
        }
        assert!(!shell.contains("<style") && !shell.contains(" style="), "{shell}");
        // No event handler attribute (`onclick=` and the like).
        let handler = shell.split(" on").skip(1).any(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(!handler, "{shell}");
        assert_eq!(shell.matches("<script").count(), shell.matches("<script type=\"module\" src=").count());
    }

    #[test]
    fn gzip_is_served_only_when_accepted() {
        let accepts = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            accepts_gzip(&headers)
        };
        assert!(accepts("gzip"));
        assert!(accepts("br, GZIP;q=0.8"));
        assert!(accepts("*"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts_gzip(&http::HeaderMap::new()));
    }
}
