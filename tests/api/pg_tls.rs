//! PostgreSQL on another host, over TLS: a private cluster with a throw-away CA and server
//! certificate that accepts TLS connections only. The service connects with
//! `sslmode=verify-full` and the CA's file, and is refused a server whose certificate an unrelated
//! CA signed or that names another host, and a plaintext connection. A database that asks for a
//! client certificate gets one through `sslcert` and `sslkey`.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use eea_coverage::pb;
use eea_coverage::storage::{DatabaseUrl, Store};

use crate::helpers::{seed_acme_with_ie_1, spawn_app_on, TestDatabase};
use crate::private_cluster::PrivateCluster;
use crate::tls::Pki;

fn open(url: &str) -> Result<Store, String> {
    Store::open(&DatabaseUrl::parse(url).expect("a valid URL")).map_err(|error| error.to_string())
}

/// The error of opening the store at `url`, which must fail.
fn open_error(url: &str) -> String {
    match open(url) {
        Ok(_) => panic!("{url} opened"),
        Err(error) => error,
    }
}

/// Writes a file of the client's (the test's user owns it, as libpq wants of a key), mode 0600.
fn write_client_file(directory: &tempfile::TempDir, name: &str, contents: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = directory.path().join(name);
    std::fs::write(&path, contents).expect("writing a client file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("setting a file's mode");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_verifies_the_server_and_refuses_plaintext() {
    let Some(cluster) = PrivateCluster::init("the PostgreSQL TLS test") else { return };
    let (ca, ca_key) = Pki::ca("eea-coverage PostgreSQL test CA");
    let issuer = rcgen::Issuer::new(Pki::ca_params("eea-coverage PostgreSQL test CA"), ca_key);
    let server = Pki::leaf(&issuer, "localhost", &["localhost", "127.0.0.1"], false);
    // The server's files: its key readable by its user only, as PostgreSQL insists.
    let cert_file = cluster.write_file("server.crt", &server.cert, 0o600);
    let key_file = cluster.write_file("server.key", &server.key, 0o600);
    let server_ca_file = cluster.write_file("client-ca.pem", &ca.pem(), 0o600);
    cluster.configure(&format!(
        "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nssl_ca_file = '{}'\n",
        cert_file.display(),
        key_file.display(),
        server_ca_file.display()
    ));
    // TLS or nothing over TCP, and a client certificate for the database `certified`; the socket
    // (for pg_ctl) needs none.
    cluster.set_hba(
        "local all all trust\n\
         hostssl certified all 127.0.0.1/32 cert\n\
         hostssl all all 127.0.0.1/32 trust\n\
         host all all 127.0.0.1/32 reject\n",
    );
    cluster.pg_ctl_start();

    // The client's files.
    let client = tempfile::tempdir().expect("a temporary directory");
    let ca_file = write_client_file(&client, "ca.pem", &ca.pem());
    let (unrelated_ca, _) = Pki::ca("unrelated CA");
    let unrelated_ca_file = write_client_file(&client, "unrelated-ca.pem", &unrelated_ca.pem());
    let client_certificate = Pki::leaf(&issuer, "postgres", &[], true);
    let client_cert_file = write_client_file(&client, "client.crt", &client_certificate.cert);
    let client_key_file = write_client_file(&client, "client.key", &client_certificate.key);

    // Verified against the CA, by the address in the certificate: the server starts, migrates,
    // writes and answers; started again, it reads the roster back from the database.
    let base = cluster.url("postgres");
    let verified = format!("{base}?sslmode=verify-full&sslrootcert={ca_file}");
    let database = TestDatabase::external(verified.clone());
    let app = spawn_app_on(&database, "").await;
    seed_acme_with_ie_1(&app, true).await;
    assert_eq!(app.decide("acme", pb::Severity::Severity1, "2026-12-07T10:00:00Z").await.eligible_on_shift, 1);
    app.stop().await;
    let app = spawn_app_on(&database, "").await;
    assert_eq!(app.decide("acme", pb::Severity::Severity1, "2026-12-07T10:00:00Z").await.eligible_on_shift, 1);
    app.stop().await;

    // By the DNS name in the certificate too (libpq resolves nothing: hostaddr says where).
    let port = cluster.port();
    let at_host =
        |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/postgres?hostaddr=127.0.0.1&{query}");
    open(&at_host("localhost", &format!("sslmode=verify-full&sslrootcert={ca_file}"))).expect("verify-full by name");

    // A certificate that only an unrelated CA could vouch for.
    let error = open_error(&format!("{base}?sslmode=verify-full&sslrootcert={unrelated_ca_file}"));
    assert!(error.contains("certificate verify failed"), "{error}");
    // The right CA, but a certificate for another host.
    let error = open_error(&at_host("db.invalid", &format!("sslmode=verify-full&sslrootcert={ca_file}")));
    assert!(error.contains("does not match host name \"db.invalid\""), "{error}");
    // Plaintext, refused by the server.
    let error = open_error(&format!("{base}?sslmode=disable"));
    assert!(error.contains("pg_hba.conf rejects connection"), "{error}");

    // A database that asks for a client certificate: refused without one, open with it.
    let mut admin = diesel::PgConnection::establish(&verified).expect("connecting to create a database");
    admin.batch_execute("CREATE DATABASE certified").expect("creating a database");
    drop(admin);
    let certified = format!("{}?sslmode=verify-full&sslrootcert={ca_file}", cluster.url("certified"));
    let error = open_error(&certified);
    assert!(error.contains("requires a valid client certificate"), "{error}");
    open(&format!("{certified}&sslcert={client_cert_file}&sslkey={client_key_file}")).expect("a client certificate");
}
