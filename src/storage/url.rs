//! Where the data lives, parsed from one URL, and how that URL is shown in logs (never with a
//! password) and handed to libpq (always with a connect timeout).

use std::path::PathBuf;
use std::time::Duration;

use super::StorageError;

/// Where the data lives: a SQLite file or a PostgreSQL database. `Debug` shows the redacted
/// URL, never a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

/// How long a call waits for a database connection before it fails with UNAVAILABLE.
pub(super) const CONNECTION_TIMEOUT: Duration = Duration::from_secs(3);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl DatabaseUrl {
    /// `postgres://` or `postgresql://` is PostgreSQL; `sqlite://PATH` or a plain path is SQLite.
    pub fn parse(text: &str) -> Result<DatabaseUrl, StorageError> {
        let text = text.trim();
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(text.to_owned()))
        } else if let Some(path) = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StorageError::BadUrl("sqlite:// needs a file path".into()));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if text.is_empty() {
            Err(StorageError::BadUrl("the database URL is empty".into()))
        } else if text.contains("://") {
            Err(StorageError::BadUrl(format!("unsupported scheme in {:?}; use postgres:// or sqlite://", redact(text))))
        } else {
            Ok(DatabaseUrl::Sqlite(PathBuf::from(text)))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }

    /// The URL with any password replaced, fit for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact(url),
        }
    }
}

/// The URL with libpq's `connect_timeout` set, unless it sets one: a database that silently
/// stopped answering must not hold a connection attempt for minutes.
pub(super) fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={}", CONNECTION_TIMEOUT.as_secs())
}

pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (location, query) = rest.split_once('?').map_or((rest, None), |(location, query)| (location, Some(query)));
    let location = match location.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{user}:***@{host}")
        }
        None => location.to_owned(),
    };
    // A password can also travel as a query parameter, and so can the one that unlocks a client
    // certificate's key. The TLS settings (sslmode, sslrootcert, sslcert, sslkey) name a mode
    // and files, no secret, and stay.
    let query = query.map(|query| {
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword") => {
                    format!("{key}=***")
                }
                _ => parameter.to_owned(),
            })
            .collect();
        format!("?{}", parameters.join("&"))
    });
    format!("{scheme}://{location}{}", query.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_redacted_url() {
        assert_eq!(redact("postgres://app:secret@db:5432/roster"), "postgres://app:***@db:5432/roster");
        assert_eq!(
            redact("postgres://db/roster?user=app&password=secret"),
            "postgres://db/roster?user=app&password=***"
        );
        assert_eq!(redact("postgres://db/roster"), "postgres://db/roster");
        assert_eq!(
            redact("postgres://app@db/roster?sslcert=/etc/app.crt&sslkey=/etc/app.key&sslpassword=unlock"),
            "postgres://app:***@db/roster?sslcert=/etc/app.crt&sslkey=/etc/app.key&sslpassword=***"
        );
    }

    #[test]
    fn tls_settings_reach_libpq_and_the_logs() {
        let url = "postgres://app:secret@db.example:5432/roster?sslmode=verify-full&sslrootcert=/etc/eea/ca.pem";
        assert_eq!(
            DatabaseUrl::parse(url).unwrap().redacted(),
            "postgres://app:***@db.example:5432/roster?sslmode=verify-full&sslrootcert=/etc/eea/ca.pem"
        );
        assert_eq!(with_connect_timeout(url), format!("{url}&connect_timeout=3"));
        assert_eq!(with_connect_timeout("postgres://db/roster"), "postgres://db/roster?connect_timeout=3");
    }

    #[test]
    fn the_backend_is_picked_by_scheme() {
        assert_eq!(DatabaseUrl::parse("postgresql://db/x").unwrap().backend_name(), "postgres");
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db").unwrap(), DatabaseUrl::Sqlite(PathBuf::from("data/x.db")));
        assert_eq!(DatabaseUrl::parse("x.db").unwrap(), DatabaseUrl::Sqlite(PathBuf::from("x.db")));
        assert!(DatabaseUrl::parse("mysql://db/x").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }
}
