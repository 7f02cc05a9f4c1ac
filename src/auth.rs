//! Who may call what: bearer tokens, stored only as SHA-256 hashes, each with a role.
//!
//! Pure rules, shared by the server (which checks) and the clients in the binary (which find a
//! token to send). No token ever reaches a log line; a caller is named by its token's name.

use std::collections::HashMap;
use std::path::Path;

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
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A token the server accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenEntry {
    pub name: String,
    pub role: Role,
    pub sha256: String,
}

/// The accepted tokens, looked up by hash.
#[derive(Clone, Debug, Default)]
pub struct TokenTable {
    by_hash: HashMap<String, (String, Role)>,
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
            by_hash: entries
                .iter()
                .map(|entry| (entry.sha256.to_ascii_lowercase(), (entry.name.clone(), entry.role)))
                .collect(),
        }
    }

    /// Who is calling with this token, if anyone known.
    pub fn caller(&self, token: &str) -> Option<(&str, Role)> {
        self.by_hash.get(&token_hash(token)).map(|(name, role)| (name.as_str(), *role))
    }

    /// May the bearer of `token` call `path` (`/package.Service/Method`)? The caller's name when so.
    pub fn authorise(&self, token: Option<&str>, path: &str) -> Result<String, Refusal> {
        let (name, role) = token.and_then(|token| self.caller(token)).ok_or(Refusal::Unauthenticated)?;
        if role_may_call(role, path) {
            Ok(name.to_owned())
        } else {
            Err(Refusal::PermissionDenied { caller: name.to_owned(), role })
        }
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
            ("boss-secret", "/eeacoverage.v1.PolicyService/UpsertOrg", false),
            ("desk-secret", "/eeacoverage.v1.PolicyService/GetPolicy", true),
            ("root-secret", "/eeacoverage.v1.PolicyService/GrantConsent", true),
        ];
        for (token, path, allowed) in cases {
            assert_eq!(table.authorise(Some(token), path).is_ok(), allowed, "{token} {path}");
        }
        assert_eq!(table.authorise(None, "/eeacoverage.v1.TicketService/DecideTicket"), Err(Refusal::Unauthenticated));
        assert_eq!(
            table.authorise(Some("guess"), "/eeacoverage.v1.TicketService/DecideTicket"),
            Err(Refusal::Unauthenticated)
        );
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
