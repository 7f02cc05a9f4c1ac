//! The everyday commands, so that nothing but this binary is needed to run the service: `org`,
//! `agent` and `consent` (set, get, list; grant, revoke, list), `decide`, `explain`, `access`, `on-shift`,
//! `policy` and `audit`. Each prints for people by default and, with `--format json`, the
//! contract's messages in the proto3 JSON mapping (`pb::to_json`), a list as a JSON array.
//!
//! Exit codes ([`Failure::exit_code`]): 0 done; 1 any other failure; 2 bad usage; 3 the server
//! could not be reached; 4 not found; 5 refused as invalid; 6 not allowed (no or wrong token,
//! role); 7 the server is unavailable, overloaded or past the deadline.

mod explain;
mod roster;
mod tickets;

pub use explain::{run_explain, ExplainArgs};
pub use roster::{run_agent, run_consent, run_org, AgentArgs, ConsentArgs, OrgArgs};
pub use tickets::{run_access, run_audit, run_decide, run_on_shift, run_policy};
pub use tickets::{AccessArgs, AuditArgs, DecideArgs, OnShiftArgs, PolicyArgs};

pub(super) use crate::cli::connection::every_page;
use crate::cli::connection::{connect, AuthChannel, CallerArgs};

/// What every everyday command takes: the server, the token, and the output format.
#[derive(clap::Args, Clone)]
pub struct CommonArgs {
    /// The server's address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// human (the default) or json (the contract's messages in the proto3 JSON mapping).
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "json"])]
    format: String,
    #[command(flatten)]
    caller: CallerArgs,
}

impl CommonArgs {
    fn json(&self) -> bool {
        self.format == "json"
    }

    async fn channel(&self) -> Result<AuthChannel, Failure> {
        connect(&self.server, &self.caller).await.map_err(|message| Failure { exit_code: 3, message })
    }
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug)]
pub struct Failure {
    pub exit_code: u8,
    pub message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure { exit_code: 2, message: message.into() }
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Failure {
        use tonic::Code;
        let exit_code = match status.code() {
            Code::NotFound => 4,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange | Code::AlreadyExists => 5,
            Code::Unauthenticated | Code::PermissionDenied => 6,
            Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => 7,
            _ => 1,
        };
        let mut message = format!("{:?}: {}", status.code(), status.message());
        use tonic_types::StatusExt;
        if let Some(bad_request) = status.get_details_bad_request() {
            for violation in &bad_request.field_violations {
                message.push_str(&format!("\n  {}: {}", violation.field, violation.description));
            }
        }
        Failure { exit_code, message }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::usage(message)
    }
}

/// Prints one message: as JSON, or as the lines `human` gives.
fn print_one<M: prost::Message>(common: &CommonArgs, message: &M, name: &str, human: impl FnOnce(&M) -> String) {
    if common.json() {
        println!("{}", String::from_utf8_lossy(&crate::pb::to_json(message, name)));
    } else {
        print!("{}", human(message));
    }
}

/// Prints a list: a JSON array, or a table of the rows `row` gives under `header`.
fn print_list<M: prost::Message>(
    common: &CommonArgs,
    items: &[M],
    name: &str,
    header: &[&str],
    row: impl Fn(&M) -> Vec<String>,
) {
    if common.json() {
        let parts: Vec<String> =
            items.iter().map(|item| String::from_utf8_lossy(&crate::pb::to_json(item, name)).into_owned()).collect();
        println!("[{}]", parts.join(","));
        return;
    }
    let rows: Vec<Vec<String>> = items.iter().map(&row).collect();
    print!("{}", table(header, &rows));
}

/// Columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
    for row in rows {
        for (idx, cell) in row.iter().enumerate() {
            widths[idx] = widths[idx].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}", width = *width)).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// An optional instant: an RFC 3339 text, or `-` when absent.
fn when_text(timestamp: &Option<prost_types::Timestamp>) -> String {
    match timestamp {
        Some(timestamp) => crate::cli::brussels_text(timestamp),
        None => "-".into(),
    }
}

/// An enum value's name without its prefix (`PLAN_EEA_ONLY` is `EEA_ONLY`).
fn short_name(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix).unwrap_or(full).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_exit_codes_a_script_can_tell_apart() {
        let code = |status: tonic::Status| Failure::from(status).exit_code;
        assert_eq!(code(tonic::Status::not_found("org acme")), 4);
        assert_eq!(code(tonic::Status::invalid_argument("bad")), 5);
        assert_eq!(code(tonic::Status::failed_precondition("synced")), 5);
        assert_eq!(code(tonic::Status::permission_denied("role")), 6);
        assert_eq!(code(tonic::Status::unauthenticated("token")), 6);
        assert_eq!(code(tonic::Status::unavailable("draining")), 7);
        assert_eq!(code(tonic::Status::internal("bug")), 1);
    }

    #[test]
    fn tables_pad_each_column_to_its_widest_cell() {
        let rows = vec![vec!["acme".to_string(), "EEA_ONLY".to_string()], vec!["a".to_string(), "-".to_string()]];
        assert_eq!(table(&["ORG", "PLAN"], &rows), "ORG   PLAN\nacme  EEA_ONLY\na     -\n");
    }
}
