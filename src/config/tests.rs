use std::collections::HashMap;

use super::*;
use crate::domain::calendar::HolidayCalendar;

#[test]
fn later_layers_override_earlier_ones_field_by_field() {
    let file: RawSettings =
        toml::from_str("listen = \"127.0.0.1:6000\"\n[plans]\neea_only_holidays = \"target2\"\n").unwrap();
    let environment = HashMap::from([("EEA_COVERAGE_LISTEN", "127.0.0.1:7000")]);
    let env = RawSettings::from_environment(|name| environment.get(name).map(|value| (*value).to_owned()));
    let settings = file.overridden_by(env).validate().unwrap();
    assert_eq!(settings.listen.port(), 7000);
    assert_eq!(settings.plans.eea_only_holidays, HolidayCalendar::Target2);
    assert_eq!(settings.database_url, DatabaseUrl::Sqlite(PathBuf::from(DEFAULT_DATABASE_PATH)));
}

#[test]
fn every_documented_environment_variable_is_read() {
    for (variable, setting) in ENVIRONMENT_VARIABLES {
        let raw = RawSettings::from_environment(|name| (name == variable).then(|| "x".to_owned()));
        let set = [
            &raw.listen,
            &raw.database_url,
            &raw.policy_file,
            &raw.log.format,
            &raw.log.filter,
            &raw.plans.eea_only_holidays,
            &raw.plans.standard_hours,
            &raw.plans.standard_holidays,
            &raw.metrics.listen,
            &raw.http.listen,
            &raw.auth.token_file,
            &raw.tls.cert_file,
            &raw.tls.key_file,
            &raw.tls.client_ca_file,
        ];
        assert_eq!(set.iter().filter(|value| value.is_some()).count(), 1, "{variable} sets {setting}");
    }
}

#[test]
fn a_bad_setting_is_named() {
    let raw: RawSettings = toml::from_str("[plans]\nstandard_hours = \"weekdays\"\n").unwrap();
    assert_eq!(raw.validate().unwrap_err().setting, "plans.standard_hours");
    let raw = RawSettings { listen: Some("localhost".into()), ..RawSettings::default() };
    assert_eq!(raw.validate().unwrap_err().setting, "listen");
    assert!(toml::from_str::<RawSettings>("colour = \"blue\"\n").is_err());
    let raw: RawSettings = toml::from_str("[limits]\nmax_concurrent_calls = 0\n").unwrap();
    assert_eq!(raw.validate().unwrap_err().setting, "limits.max_concurrent_calls");
    let raw: RawSettings = toml::from_str("[tls]\ncert_file = \"server.pem\"\n").unwrap();
    assert_eq!(raw.validate().unwrap_err().setting, "tls.key_file");
    let raw: RawSettings = toml::from_str("[tls]\nclient_ca_file = \"ca.pem\"\n").unwrap();
    assert_eq!(raw.validate().unwrap_err().setting, "tls.client_ca_file");
    let raw: RawSettings =
        toml::from_str("[tls]\ncert_file = \"s.pem\"\nkey_file = \"s.key\"\nrequire_client_certificate = true\n")
            .unwrap();
    assert_eq!(raw.validate().unwrap_err().setting, "tls.require_client_certificate");
    let raw: RawSettings = toml::from_str("[[auth.certificates]]\ncommon_name = \"wfm\"\nrole = \"boss\"\n").unwrap();
    assert_eq!(raw.validate().unwrap_err().setting, "auth.certificates[0].role");
    let raw: RawSettings = toml::from_str(
        "[tls]\ncert_file = \"s.pem\"\nkey_file = \"s.key\"\nclient_ca_file = \"ca.pem\"\n\
         [[auth.certificates]]\ncommon_name = \"wfm\"\nrole = \"admin\"\n\
         [[auth.certificates]]\ncommon_name = \"wfm\"\nrole = \"manager\"\n",
    )
    .unwrap();
    assert_eq!(raw.validate().unwrap_err().setting, "auth.certificates[1].common_name");
    let raw: RawSettings = toml::from_str("[limits]\ncall_timeout_secs = 5\n").unwrap();
    assert_eq!(raw.validate().unwrap().limits.call_timeout, std::time::Duration::from_secs(5));
}

#[test]
fn a_gap_webhook_is_read_with_its_defaults_and_its_bad_settings_are_named() {
    let webhook = |body: &str| toml::from_str::<RawSettings>(&format!("[gap_webhook]\n{body}")).unwrap().validate();
    let one_requirement = "[[gap_webhook.requirements]]\nplan = \"eea-only\"\nseverity = 1\n";
    let settings = webhook(&format!("url = \"https://hooks.example.net/gaps\"\n{one_requirement}")).unwrap();
    let read = settings.gap_webhook.expect("a webhook");
    assert_eq!(read.url, "https://hooks.example.net/gaps");
    assert_eq!(read.look_ahead, jiff::SignedDuration::from_hours(72));
    assert_eq!((read.timeout.as_secs(), read.lease.as_secs()), (10, 30));
    assert_eq!(read.requirements[0].min_staff, 1);
    assert!(RawSettings::default().validate().unwrap().gap_webhook.is_none());

    let secret_in_url = format!("url = \"https://user:s3cret@/gaps?token=s3cret\"\n{one_requirement}");
    assert!(!webhook(&secret_in_url).unwrap_err().to_string().contains("s3cret"), "a URL is not repeated in an error");

    for (body, setting) in [
        (one_requirement.to_owned(), "gap_webhook.url"),
        (format!("url = \"ftp://hooks.example.net\"\n{one_requirement}"), "gap_webhook.url"),
        (format!("url = \"https:///gaps\"\n{one_requirement}"), "gap_webhook.url"),
        ("url = \"http://127.0.0.1:9/\"\n".to_owned(), "gap_webhook.requirements"),
        (format!("url = \"http://127.0.0.1:9/\"\nca_file = \"ca.pem\"\n{one_requirement}"), "gap_webhook.ca_file"),
        (format!("url = \"http://127.0.0.1:9/\"\nlook_ahead_hours = 400\n{one_requirement}"), "gap_webhook.look_ahead_hours"),
        (format!("url = \"http://127.0.0.1:9/\"\ntimeout_secs = 10\nlease_secs = 15\n{one_requirement}"), "gap_webhook.lease_secs"),
        (
            "url = \"http://127.0.0.1:9/\"\n[[gap_webhook.requirements]]\nplan = \"gold\"\nseverity = 1\n".to_owned(),
            "gap_webhook.requirements[0].plan",
        ),
        (
            format!("url = \"http://127.0.0.1:9/\"\n{one_requirement}[[gap_webhook.requirements]]\nplan = \"standard\"\nseverity = 5\n"),
            "gap_webhook.requirements[1].severity",
        ),
        (format!("url = \"http://127.0.0.1:9/\"\n{one_requirement}{one_requirement}"), "gap_webhook.requirements[1]"),
        (
            format!("url = \"http://127.0.0.1:9/\"\n{one_requirement}{one_requirement}eea_tagged = true\n"),
            "gap_webhook.requirements[1]",
        ),
        (format!("url = \"https://user@/gaps\"\n{one_requirement}"), "gap_webhook.url"),
    ] {
        assert_eq!(webhook(&body).unwrap_err().setting, setting, "{body}");
    }
}

#[test]
fn only_a_receivers_host_and_port_may_be_logged() {
    assert_eq!(url_host("https://hooks.example.net:8443/gaps?token=s3cret"), Some("hooks.example.net:8443"));
    assert_eq!(url_host("http://user:s3cret@10.1.2.3/gaps"), Some("10.1.2.3"));
    assert_eq!(url_host("http://hooks.example.net?token=s3c@ret"), Some("hooks.example.net"));
    assert_eq!(url_host("http://[::1]:9000?x=1"), Some("[::1]:9000"));
    assert_eq!(url_host("hooks.example.net"), None);
}

#[test]
fn sources_set_pager_shifts_as_standby_and_refuse_breaching_writes_and_bad_values_are_named() {
    let read = |body: &str| toml::from_str::<RawSettings>(body).unwrap().validate();
    let settings = read(
        "[sources.pagerduty]\npager_shifts = \"standby\"\n[sources.wfm]\nworking_time_breaches = \"refuse\"\n[sources.other]\n",
    )
    .unwrap();
    assert_eq!(settings.working_time.standby_pager_sources, ["pagerduty".to_owned()].into());
    assert_eq!(settings.working_time.refusing_sources, ["wfm".to_owned()].into());
    assert_eq!(RawSettings::default().validate().unwrap().working_time, Default::default());
    assert_eq!(read("[sources.wfm]\npager_shifts = \"rest\"\n").unwrap_err().setting, "sources.wfm.pager_shifts");
    assert_eq!(
        read("[sources.wfm]\nworking_time_breaches = \"block\"\n").unwrap_err().setting,
        "sources.wfm.working_time_breaches"
    );
    assert!(toml::from_str::<RawSettings>("[sources.wfm]\nstandby = true\n").is_err());
}

#[test]
fn the_http_listener_is_on_by_default_off_when_empty_and_a_bad_address_is_named() {
    let read = |body: &str| toml::from_str::<RawSettings>(body).unwrap().validate();
    let default = read("").unwrap().http_listen.expect("on by default");
    assert_eq!(default, DEFAULT_HTTP_LISTEN.parse().unwrap());
    assert_eq!(read("[http]\nlisten = \"\"\n").unwrap().http_listen, None);
    assert_eq!(
        read("[http]\nlisten = \"0.0.0.0:8443\"\n").unwrap().http_listen.map(|address| address.port()),
        Some(8443)
    );
    assert_eq!(read("[http]\nlisten = \"localhost\"\n").unwrap_err().setting, "http.listen");
    let environment = HashMap::from([("EEA_COVERAGE_HTTP_LISTEN", "")]);
    let env = RawSettings::from_environment(|name| environment.get(name).map(|value| (*value).to_owned()));
    let file: RawSettings = toml::from_str("[http]\nlisten = \"127.0.0.1:9000\"\n").unwrap();
    assert_eq!(file.overridden_by(env).validate().unwrap().http_listen, None, "an empty variable turns it off");
}

#[test]
fn retention_keeps_everything_unless_set_and_zero_days_is_named() {
    let read = |body: &str| toml::from_str::<RawSettings>(body).unwrap().validate();
    assert_eq!(read("").unwrap().retention_keep_days, None);
    assert_eq!(read("[retention]\nkeep_days = 400\n").unwrap().retention_keep_days, Some(400));
    let zero = read("[retention]\nkeep_days = 0\n").unwrap_err().to_string();
    assert!(zero.contains("retention.keep_days"), "{zero}");
    assert!(toml::from_str::<RawSettings>("[retention]\nkeep = 4\n").is_err());
    assert!(toml::from_str::<RawSettings>("[retention]\nkeep_days = -1\n").is_err());
}
