//! Who may call what: bearer tokens, stored only as SHA-256 hashes, and client certificates
//! (mutual TLS), named by their subject's common name; each with a role.
//!
//! Pure rules, shared by the server (which checks) and the clients in the binary (which find a
//! token to send). No token ever reaches a log line; a caller is named `token:<name>` or
//! `certificate:<subject>`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// RosterService.
    RosterWriter,
    /// TicketService.
    TicketReader,
    /// CoverageService, and reading the roster.
    Manager,
    /// Everything, PolicyService included.
    Admin,
}

impl Role {
    pub fn named(name: &str) -> Option<Role> {
        match name {
            "roster-writer" => Some(Role::RosterWriter),
            "ticket-reader" => Some(Role::TicketReader),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::RosterWriter => "roster-writer",
            Role::TicketReader => "ticket-reader",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

/// The SHA-256 of a token, lower-case hex: what the configuration holds.
pub fn token_hash(token: &str) -> String {
    token_digest(token).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The SHA-256 of a token, as bytes: what a call's token is looked up by.
fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The 32 bytes a configured 64-hex-digit hash stands for; `None` for anything else.
fn digest_from_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte_idx, pair) in bytes.chunks_exact(2).enumerate() {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        digest[byte_idx] = u8::try_from(high * 16 + low).ok()?;
    }
    Some(digest)
}

/// A token the server accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenEntry {
    pub name: String,
    pub role: Role,
    pub sha256: String,
}

/// A client certificate the server accepts: a verified certificate whose subject has this
/// common name gets this role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateEntry {
    pub common_name: String,
    pub role: Role,
}

/// The accepted tokens, looked up by hash, and client certificates, by common name.
#[derive(Clone, Debug, Default)]
pub struct TokenTable {
    /// Each token's name and its caller name (`token:<name>`), made once: the hot path looks a
    /// token up on every call.
    by_digest: HashMap<[u8; 32], (String, Arc<str>, Role)>,
    by_common_name: HashMap<String, Role>,
}

/// The verified client certificate of a TLS connection, as far as access needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresentedCertificate {
    /// The subject, as x509-parser prints it (`CN=wfm-sync, O=Acme`): names the caller.
    pub subject: String,
    /// The subject's common name, when it has one: picks the role.
    pub common_name: Option<String>,
}

/// Why a call is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No token, or one the server does not know.
    Unauthenticated,
    /// A known token whose role may not make this call.
    PermissionDenied { caller: String, role: Role },
}

impl TokenTable {
    pub fn new(entries: &[TokenEntry]) -> TokenTable {
        TokenTable {
            // The settings accept only 64 hex digits, so every entry decodes.
            by_digest: entries
                .iter()
                .filter_map(|entry| {
                    let caller: Arc<str> = Arc::from(format!("token:{}", entry.name));
                    Some((digest_from_hex(&entry.sha256)?, (entry.name.clone(), caller, entry.role)))
                })
                .collect(),
            by_common_name: HashMap::new(),
        }
    }

    /// Also accepts these client certificates.
    pub fn with_certificates(mut self, certificates: &[CertificateEntry]) -> TokenTable {
        self.by_common_name = certificates.iter().map(|entry| (entry.common_name.clone(), entry.role)).collect();
        self
    }

    /// Whether any client certificate is accepted (so connections' certificates are worth reading).
    pub fn accepts_certificates(&self) -> bool {
        !self.by_common_name.is_empty()
    }

    /// May this caller call `path`? A verified certificate whose common name is configured names
    /// the caller; otherwise the bearer token does. The caller's name when so.
    pub fn authorise_call(
        &self,
        certificate: Option<&PresentedCertificate>,
        token: Option<&str>,
        path: &str,
    ) -> Result<Arc<str>, Refusal> {
        let by_certificate = certificate.and_then(|certificate| {
            let role = self.by_common_name.get(certificate.common_name.as_deref()?)?;
            Some((Arc::from(format!("certificate:{}", certificate.subject)), *role))
        });
        let (name, role) = match by_certificate {
            Some(found) => found,
            None => {
                let token = token.ok_or(Refusal::Unauthenticated)?;
                let (_, caller, role) = self.by_digest.get(&token_digest(token)).ok_or(Refusal::Unauthenticated)?;
                (caller.clone(), *role)
            }
        };
        if role_may_call(role, path) {
            Ok(name)
        } else {
            Err(Refusal::PermissionDenied { caller: name.to_string(), role })
        }
    }

    /// Who is calling with this token, if anyone known.
    pub fn caller(&self, token: &str) -> Option<(&str, Role)> {
        self.by_digest.get(&token_digest(token)).map(|(name, _, role)| (name.as_str(), *role))
    }
}

/// Paths anyone may call: the standard health service and, when served, reflection.
pub fn is_open(path: &str) -> bool {
    let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
    matches!(
        service,
        "grpc.health.v1.Health" | "grpc.reflection.v1.ServerReflection" | "grpc.reflection.v1alpha.ServerReflection"
    )
}

/// The role matrix.
pub fn role_may_call(role: Role, path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (service, method) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let reads = method.starts_with("Get") || method.starts_with("List");
    match (role, service) {
        (Role::Admin, _) => true,
        (Role::RosterWriter, "eeacoverage.v1.RosterService") => true,
        (Role::TicketReader, "eeacoverage.v1.TicketService") => true,
        (Role::Manager, "eeacoverage.v1.CoverageService") => true,
        (Role::Manager, "eeacoverage.v1.RosterService") => reads,
        // Evidence for audits: managers answer the auditors.
        (Role::Manager, "eeacoverage.v1.TicketService") => method == "ExplainTicket",
        // The policy in force is public knowledge to every caller.
        (_, "eeacoverage.v1.PolicyService") => method == "GetPolicy",
        _ => false,
    }
}

/// The token a client in the binary sends: the flag, else `EEA_COVERAGE_TOKEN`, else the file a
/// server on this machine wrote.
pub fn client_token(flag: Option<&str>, environment: Option<String>, token_file: &Path) -> Option<String> {
    flag.map(str::to_owned)
        .or(environment)
        .or_else(|| std::fs::read_to_string(token_file).ok())
        .map(|token| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_hash_is_sha256_in_lower_case_hex_and_reads_back() {
        // FIPS 180-2's example: SHA-256 of "abc".
        let hex = token_hash("abc");
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(digest_from_hex(&hex), Some(token_digest("abc")));
        assert_eq!(digest_from_hex(&hex.to_ascii_uppercase()), Some(token_digest("abc")));
        for bad in ["", "abc", &hex[..63], &format!("{}g", &hex[..63]), &format!("{hex}00")] {
            assert_eq!(digest_from_hex(bad), None, "{bad:?}");
        }
    }

    fn table() -> TokenTable {
        TokenTable::new(&[
            TokenEntry { name: "wfm".into(), role: Role::RosterWriter, sha256: token_hash("wfm-secret") },
            TokenEntry { name: "desk".into(), role: Role::TicketReader, sha256: token_hash("desk-secret") },
            TokenEntry { name: "boss".into(), role: Role::Manager, sha256: token_hash("boss-secret") },
            TokenEntry { name: "root".into(), role: Role::Admin, sha256: token_hash("root-secret") },
        ])
    }

    #[test]
    fn each_role_reaches_its_services_only() {
        let table = table();
        let cases = [
            ("wfm-secret", "/eeacoverage.v1.RosterService/SyncShifts", true),
            ("wfm-secret", "/eeacoverage.v1.TicketService/DecideTicket", false),
            ("desk-secret", "/eeacoverage.v1.TicketService/DecideTicket", true),
            ("desk-secret", "/eeacoverage.v1.RosterService/ListAgents", false),
            ("boss-secret", "/eeacoverage.v1.CoverageService/GetCoverageReport", true),
            ("boss-secret", "/eeacoverage.v1.RosterService/ListShifts", true),
            ("boss-secret", "/eeacoverage.v1.RosterService/UpsertShifts", false),
            ("boss-secret", "/eeacoverage.v1.TicketService/ExplainTicket", true),
            ("boss-secret", "/eeacoverage.v1.TicketService/DecideTicket", false),
            ("desk-secret", "/eeacoverage.v1.TicketService/ExplainTicket", true),
            ("wfm-secret", "/eeacoverage.v1.TicketService/ExplainTicket", false),
            ("boss-secret", "/eeacoverage.v1.PolicyService/UpsertOrg", false),
            ("desk-secret", "/eeacoverage.v1.PolicyService/GetPolicy", true),
            ("root-secret", "/eeacoverage.v1.PolicyService/GrantConsent", true),
        ];
        for (token, path, allowed) in cases {
            assert_eq!(table.authorise_call(None, Some(token), path).is_ok(), allowed, "{token} {path}");
        }
        assert_eq!(
            table.authorise_call(None, None, "/eeacoverage.v1.TicketService/DecideTicket"),
            Err(Refusal::Unauthenticated)
        );
        assert_eq!(
            table.authorise_call(None, Some("guess"), "/eeacoverage.v1.TicketService/DecideTicket"),
            Err(Refusal::Unauthenticated)
        );
    }

    #[test]
    fn a_configured_certificate_names_the_caller_before_any_token() {
        let table =
            table().with_certificates(&[CertificateEntry { common_name: "wfm-sync".into(), role: Role::RosterWriter }]);
        let presented = |common_name: Option<&str>| PresentedCertificate {
            subject: format!("CN={}, O=Acme", common_name.unwrap_or("-")),
            common_name: common_name.map(str::to_owned),
        };
        let sync = "/eeacoverage.v1.RosterService/SyncShifts";
        let wfm = presented(Some("wfm-sync"));
        assert_eq!(table.authorise_call(Some(&wfm), None, sync), Ok("certificate:CN=wfm-sync, O=Acme".into()));
        assert_eq!(
            table.authorise_call(Some(&wfm), None, "/eeacoverage.v1.TicketService/DecideTicket"),
            Err(Refusal::PermissionDenied {
                caller: "certificate:CN=wfm-sync, O=Acme".into(),
                role: Role::RosterWriter
            })
        );
        // The certificate wins over a token sent alongside.
        assert_eq!(
            table
                .authorise_call(Some(&wfm), Some("root-secret"), "/eeacoverage.v1.PolicyService/UpsertOrg")
                .unwrap_err(),
            Refusal::PermissionDenied { caller: "certificate:CN=wfm-sync, O=Acme".into(), role: Role::RosterWriter }
        );
        // An unconfigured or nameless certificate leaves the token to decide.
        for other in [presented(Some("stranger")), presented(None)] {
            assert_eq!(table.authorise_call(Some(&other), None, sync), Err(Refusal::Unauthenticated));
            assert_eq!(table.authorise_call(Some(&other), Some("wfm-secret"), sync), Ok("token:wfm".into()));
        }
    }

    #[test]
    fn health_and_reflection_are_open() {
        assert!(is_open("/grpc.health.v1.Health/Check"));
        assert!(is_open("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
        assert!(!is_open("/eeacoverage.v1.TicketService/DecideTicket"));
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
